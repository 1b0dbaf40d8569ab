package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// readPIN returns the two-step PIN from, in order: pinFile, the WA_PIN
// environment variable, or a prompt without echo when stdin is a terminal.
// A flag is deliberately not a source: command lines end up in shell history
// and process lists. Errors never quote what was read.
func readPIN(e *env, pinFile string, confirm bool) (string, error) {
	var pin string
	switch {
	case pinFile != "":
		b, err := e.readFile(pinFile)
		// The PIN itself given as the path must not be echoed.
		name := pinFile
		if looksSecret(name) {
			name = "(six digits: the path of a file holding the PIN, not the PIN)"
		}
		if err != nil {
			return "", usageErr("--pin-file: cannot read %s: %v", name, pathless(err))
		}
		pin = strings.TrimSpace(string(b))
		if err := validate.PIN("pin", pin); err != nil {
			return "", inputErr("pin", "the content of --pin-file "+name+" must be exactly 6 ASCII digits")
		}
	case e.getenv(envPIN) != "":
		pin = strings.TrimSpace(e.getenv(envPIN))
		if err := validate.PIN("pin", pin); err != nil {
			return "", inputErr("pin", envPIN+" must be exactly 6 ASCII digits")
		}
	case e.stdinIsTerminal():
		var err error
		if pin, err = promptPIN(e, "Two-step PIN (6 digits, not shown): "); err != nil {
			return "", err
		}
		if err := validate.PIN("pin", pin); err != nil {
			return "", err
		}
		if confirm {
			// A mistyped PIN would become the number's PIN at Meta,
			// where nobody can read it back.
			again, err := promptPIN(e, "Repeat the PIN: ")
			if err != nil {
				return "", err
			}
			if again != pin {
				return "", inputErr("pin", "the two entries differ")
			}
		}
	default:
		return "", inputErr("pin", "is required: use --pin-file PATH or "+envPIN+", or run in a terminal to be prompted (stdin is not a terminal)")
	}
	return pin, nil
}

// readBackup returns the On-Premises backup of a migrating number: its data
// from backupFile and its password from passwordFile or the
// WA_BACKUP_PASSWORD environment variable; nil when no backup file is
// given. Like the PIN, the password never comes from a flag value, and
// errors never quote what was read.
func readBackup(e *env, backupFile, passwordFile string) (*onboarding.Backup, error) {
	if backupFile == "" {
		if passwordFile != "" {
			return nil, usageErr("--backup-password-file needs --backup-file")
		}
		return nil, nil
	}
	data, err := readSecretFile(e, "--backup-file", backupFile)
	if err != nil {
		return nil, err
	}
	var password string
	switch {
	case passwordFile != "":
		if password, err = readSecretFile(e, "--backup-password-file", passwordFile); err != nil {
			return nil, err
		}
	case e.getenv(envBackupPassword) != "":
		password = strings.TrimSpace(e.getenv(envBackupPassword))
	}
	b := &onboarding.Backup{Data: data, Password: password}
	if err := b.Validate(); err != nil {
		var ve *validate.Error
		if errors.As(err, &ve) && ve.Field == "backup.password" {
			return nil, inputErr("backup.password", "is required with --backup-file: use --backup-password-file PATH or "+envBackupPassword)
		}
		return nil, err
	}
	return b, nil
}

// readSecretFile reads a file whose content is secret, trimmed; its errors
// name the flag and the path, never the content.
func readSecretFile(e *env, flag, path string) (string, error) {
	b, err := e.readFile(path)
	if err != nil {
		return "", usageErr("%s: cannot read %s: %v", flag, path, pathless(err))
	}
	return strings.TrimSpace(string(b)), nil
}

// pathless drops the path os puts in a read error: the messages name the
// file once, in their own words, and a PIN given as the path must not be
// echoed through the error.
func pathless(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

func promptPIN(e *env, prompt string) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	b, err := e.readPassword()
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read PIN: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/wa-onboarding/onboarding/internal/codecserver"
)

// pendingIssue11 lists what docker-compose.yml already runs but other
// branches of issue 11 are still adding to the code (api: the gateway;
// hooks: webhooks and the simulator's webhook flags; metrics: the worker's
// metrics server). A failing check whose key is listed is logged as PENDING
// instead of failing; a listed check that passes fails the test, so each
// entry must be removed as its branch is merged, and the list must end
// empty. The lead removes it after merging issue 11.
var pendingIssue11 = map[string]bool{}

// devOnlyCommands are main packages that drive a whole local stack of their
// own (make chaos, make bench-e2e): they have no place in the image.
var devOnlyCommands = map[string]bool{"chaos": true, "bench": true, "benche2e": true}

// listeners are the addresses each command serves, with the port of the
// address it defaults to ("127.0.0.1:PORT" in its code): a container must
// listen on that port on every interface, and publish or expose only it.
var listeners = map[string][]listener{
	"codecserver": {{flag: "addr", env: "WA_CODEC_ADDR", port: "8081"}},
	"simulator":   {{flag: "addr", env: "GRAPHSIM_ADDR", port: "8090"}},
	"gateway":     {{flag: "addr", env: "WA_GATEWAY_ADDR", port: "8088"}},
	"worker":      {{env: "WA_METRICS_ADDR", port: "9464"}},
}

type listener struct{ flag, env, port string }

const modulePath = "github.com/wa-onboarding/onboarding"

func TestCompose(t *testing.T) {
	c := newChecker(t)
	r := newRepo(t)
	cf := loadCompose(t, r.path("docker-compose.yml"))
	built := dockerfileCommands(t, r)

	services := sortedKeys(cf.Services)
	if len(services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	appImage := ""
	namespaces := map[string]string{} // service -> TEMPORAL_NAMESPACE
	for _, name := range services {
		s := cf.Services[name]
		checkImage(t, name, s)
		checkMounts(t, name, s)
		checkSecretsOf(t, name, s, cf)
		checkSecretEnv(t, name, s)
		checkPublishedOnLoopback(t, name, s)
		if ns := s.env()["TEMPORAL_NAMESPACE"]; ns != "" {
			namespaces[name] = ns
		}
		if !s.isApp() {
			continue
		}
		if appImage == "" {
			appImage = s.str("image")
		} else if s.str("image") != appImage {
			t.Errorf("service %s: image %q differs from the other services built here (%q): one image holds every command", name, s.str("image"), appImage)
		}
		argv := s.argv(t, name)
		if len(argv) == 0 {
			t.Errorf("service %s: no command: the image runs the worker by default; name the command", name)
			continue
		}
		cmd := argv[0]
		if !c.require("command "+cmd, r.isMainDir(cmd), "service %s runs %q, which is not a main package directory of this repository", name, cmd) {
			continue
		}
		if !slices.Contains(built, cmd) {
			t.Errorf("service %s runs %q, which the Dockerfile does not build (it builds %v)", name, cmd, built)
		}
		code := r.command(t, cmd)
		checkArgs(t, c, name, cmd, argv[1:], r.flags(t, cmd), code)
		checkEnv(t, c, r, name, cmd, s.env(), code)
		checkPorts(t, c, name, cmd, argv[1:], s, code)
	}

	// One namespace for every process that talks to Temporal, and the one
	// the codec server serves and the UI opens.
	nsSet := map[string]bool{}
	for _, ns := range namespaces {
		nsSet[ns] = true
	}
	if len(nsSet) != 1 {
		t.Errorf("services disagree on TEMPORAL_NAMESPACE: %v", namespaces)
	}
	for ns := range nsSet {
		if ui, ok := cf.Services["temporal-ui"]; ok && ui.env()["TEMPORAL_DEFAULT_NAMESPACE"] != ns {
			t.Errorf("temporal-ui: TEMPORAL_DEFAULT_NAMESPACE = %q, want the product's namespace %q", ui.env()["TEMPORAL_DEFAULT_NAMESPACE"], ns)
		}
		if cs, ok := cf.Services["codecserver"]; ok {
			if served := flagValue(cs.argv(t, "codecserver")[1:], "namespaces", cs.env()["WA_CODEC_NAMESPACES"]); served != "" && !slices.Contains(codecserver.ParseList(served), ns) {
				t.Errorf("codecserver serves namespaces %q, not %q", served, ns)
			}
		}
	}

	checkWorkerScales(t, cf)
	checkUICodec(t, cf)
	checkSimulatorProfile(t, cf)
	checkTopLevelSecrets(t, r, cf)
	checkSearchAttributes(t, r, cf)
}

// checker reports failures, and failures listed in pendingIssue11 as logs.
type checker struct {
	t *testing.T
}

func newChecker(t *testing.T) *checker { return &checker{t: t} }

// require fails the test with the message unless ok; a key listed in
// pendingIssue11 turns the failure into a log line and a pass into a
// failure (the entry is stale). It returns ok.
func (c *checker) require(key string, ok bool, format string, args ...any) bool {
	c.t.Helper()
	switch {
	case ok && pendingIssue11[key]:
		c.t.Errorf("%q now holds: remove it from pendingIssue11", key)
	case !ok && pendingIssue11[key]:
		c.t.Logf("PENDING (issue 11, not merged yet) %s: "+format, append([]any{key}, args...)...)
	case !ok:
		c.t.Errorf(format, args...)
	}
	return ok
}

// checkArgs: every flag exists in the command's flag definitions, values
// follow non-boolean flags, and a positional argument is a word the
// command's code knows (a subcommand).
func checkArgs(t *testing.T, c *checker, service, cmd string, args []string, flags map[string]bool, code *commandCode) {
	t.Helper()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if !code.hasLiteralInMain(a) {
				t.Errorf("service %s: argument %q is neither a flag nor a subcommand of %s", service, a, cmd)
			}
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, ok := flags[name]
		c.require("flag "+cmd+" -"+name, ok, "service %s: %s has no flag -%s (its flags: %v)", service, cmd, name, sortedKeys(flags))
		if ok && !isBool && !hasValue {
			if i+1 >= len(args) {
				t.Errorf("service %s: flag -%s of %s needs a value", service, name, cmd)
			}
			i++
		}
		if !ok && !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++ // an unknown flag's value, already reported
		}
	}
}

// checkEnv: every variable set for a command of this repository is read by
// a string literal in that command's code (its packages and their
// dependencies, Temporal's envconfig included) and documented in README.md.
// NAME_FILE counts as read where NAME is read by a package that imports
// internal/secretenv, whose convention it is.
func checkEnv(t *testing.T, c *checker, r *repo, service, cmd string, env map[string]string, code *commandCode) {
	t.Helper()
	readme := r.readme(t)
	for _, name := range sortedKeys(env) {
		c.require("code env "+name, code.readsEnv(name),
			"service %s sets %s, which no string literal of %s's code names", service, name, cmd)
		documented := containsWord(readme, name)
		if base, ok := strings.CutSuffix(name, "_FILE"); ok && !documented {
			documented = containsWord(readme, base)
		}
		if !documented {
			t.Errorf("service %s sets %s, which README.md does not mention", service, name)
		}
	}
}

// checkPorts: a command with a listener listens, in the container, on the
// port its code defaults to, on every interface; the ports a service
// publishes or exposes are exactly its listeners' ports.
func checkPorts(t *testing.T, c *checker, service, cmd string, args []string, s composeService, code *commandCode) {
	t.Helper()
	want := map[string]bool{}
	for _, l := range listeners[cmd] {
		key := "port " + cmd + " " + l.port
		defaultAddr := "127.0.0.1:" + l.port
		want[l.port] = true
		if !c.require(key, code.hasLiteral(defaultAddr), "%s: the code of %s has no default address %q; update the listeners table of this test", service, cmd, defaultAddr) {
			continue
		}
		addr := ""
		if l.env != "" {
			addr = s.env()[l.env]
		}
		if l.flag != "" {
			addr = flagValue(args, l.flag, addr)
		}
		if addr == "" {
			addr = defaultAddr
		}
		host, port, err := splitHostPort(addr)
		switch {
		case err != nil:
			t.Errorf("service %s: listen address %q: %v", service, addr, err)
		case host != "" && host != "0.0.0.0" && host != "::":
			t.Errorf("service %s: %s listens on %q, which other containers cannot reach; use :%s", service, cmd, addr, l.port)
		case port != l.port:
			t.Errorf("service %s: %s listens on port %s, not its default %s", service, cmd, port, l.port)
		}
	}
	got := map[string]bool{}
	for _, p := range s.containerPorts(t, service) {
		got[p] = true
		if !want[p] {
			t.Errorf("service %s publishes or exposes port %s, on which %s does not listen (it listens on %v)", service, p, cmd, sortedKeys(want))
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("service %s: %s listens on %s but the service neither publishes nor exposes it", service, cmd, p)
		}
	}
}

// checkImage: images built here share one local name, never "latest";
// every other image is pinned to a version with a minor number, or a digest.
func checkImage(t *testing.T, service string, s composeService) {
	t.Helper()
	img := s.str("image")
	if s.isApp() {
		if img == "" {
			t.Errorf("service %s: build without image: name the image so every service shares one build", service)
		}
		if strings.HasSuffix(img, ":latest") {
			t.Errorf("service %s: image %q: not latest", service, img)
		}
		return
	}
	if err := pinned(img, `^v?\d+\.\d+`); err != nil {
		t.Errorf("service %s: %v", service, err)
	}
}

// pinned reports whether an image reference has a digest or a tag matching
// versionRE (and is not "latest").
func pinned(img, versionRE string) error {
	if img == "" {
		return errors.New("no image")
	}
	if strings.Contains(img, "@sha256:") {
		return nil
	}
	// The tag follows the last colon after the last slash (a registry may
	// have a port).
	nameTag := img[strings.LastIndex(img, "/")+1:]
	_, tag, ok := strings.Cut(nameTag, ":")
	if !ok {
		return errors.New("image " + img + " has no tag: pin a version")
	}
	if tag == "latest" || !regexp.MustCompile(versionRE).MatchString(tag) {
		return errors.New("image " + img + " is not pinned to a version (want a tag matching " + versionRE + " or a digest)")
	}
	return nil
}

// checkMounts: nothing from .local, .tools or deploy/secrets is mounted;
// secrets come through secrets:.
func checkMounts(t *testing.T, service string, s composeService) {
	t.Helper()
	for _, v := range s.list("volumes") {
		src := ""
		switch v := v.(type) {
		case string:
			src, _, _ = strings.Cut(v, ":")
		case map[string]any:
			src, _ = v["source"].(string)
		}
		clean := path.Clean(strings.TrimPrefix(src, "./"))
		for _, bad := range []string{".local", ".tools", "deploy/secrets", ".git"} {
			if clean == bad || strings.HasPrefix(clean, bad+"/") || strings.Contains(clean, "/"+bad) {
				t.Errorf("service %s mounts %q: %s must never reach a container (secrets go through secrets:)", service, src, bad)
			}
		}
	}
}

var secretName = regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSWORD|PWD|_KEYS?|API_KEY|PIN)$`)

// checkSecretEnv: no secret value is written into the compose file.
func checkSecretEnv(t *testing.T, service string, s composeService) {
	t.Helper()
	for k, v := range s.env() {
		if secretName.MatchString(k) && v != "" {
			t.Errorf("service %s sets %s to a value: secrets come from files (%s_FILE and secrets:)", service, k, k)
		}
	}
}

// checkSecretsOf: the secrets a service mounts exist, and every *_FILE
// variable pointing into /run/secrets names one of them.
func checkSecretsOf(t *testing.T, service string, s composeService, cf composeFile) {
	t.Helper()
	mounted := map[string]bool{}
	for _, sec := range s.list("secrets") {
		name, target := "", ""
		switch sec := sec.(type) {
		case string:
			name = sec
		case map[string]any:
			name, _ = sec["source"].(string)
			target, _ = sec["target"].(string)
		}
		if _, ok := cf.Secrets[name]; !ok {
			t.Errorf("service %s uses secret %q, which secrets: does not define", service, name)
		}
		if target == "" {
			target = name
		}
		mounted[path.Join("/run/secrets", target)] = true
	}
	for k, v := range s.env() {
		if strings.HasSuffix(k, "_FILE") && strings.HasPrefix(v, "/run/secrets/") && !mounted[v] {
			t.Errorf("service %s: %s=%s, but the service does not mount that secret", service, k, v)
		}
	}
}

func checkPublishedOnLoopback(t *testing.T, service string, s composeService) {
	t.Helper()
	for _, p := range s.publishedPorts(t, service) {
		if p.hostIP != "127.0.0.1" && p.hostIP != "::1" {
			t.Errorf("service %s publishes %s on %q: publish on 127.0.0.1 and put a TLS proxy in front", service, p.container, p.hostIP)
		}
	}
}

// checkWorkerScales: several workers can run: no fixed name, no host port.
func checkWorkerScales(t *testing.T, cf composeFile) {
	t.Helper()
	w, ok := cf.Services["worker"]
	if !ok {
		t.Fatal("no worker service")
	}
	if w.str("container_name") != "" {
		t.Errorf("worker: container_name %q prevents --scale", w.str("container_name"))
	}
	if len(w.publishedPorts(t, "worker")) > 0 {
		t.Error("worker publishes host ports, which prevents --scale; expose them instead")
	}
	if d, ok := w.raw["deploy"].(map[string]any); ok {
		if n, ok := d["replicas"].(int); !ok || n < 2 {
			t.Errorf("worker: deploy.replicas = %v, want at least 2 to show it scales", d["replicas"])
		}
	}
	if g, ok := cf.Services["gateway"]; ok && g.str("container_name") != "" {
		t.Errorf("gateway: container_name %q prevents --scale", g.str("container_name"))
	}
}

// checkUICodec: the UI's codec endpoint is where the codec server is
// published, and the UI's published origin is one the codec server allows.
func checkUICodec(t *testing.T, cf composeFile) {
	t.Helper()
	ui, ok := cf.Services["temporal-ui"]
	if !ok {
		t.Fatal("no temporal-ui service")
	}
	cs, ok := cf.Services["codecserver"]
	if !ok {
		t.Fatal("no codecserver service")
	}
	ep := ui.env()["TEMPORAL_CODEC_ENDPOINT"]
	u, err := url.Parse(ep)
	if ep == "" || err != nil {
		t.Fatalf("temporal-ui: TEMPORAL_CODEC_ENDPOINT %q: want the codec server's URL as the browser reaches it", ep)
	}
	published := false
	for _, p := range cs.publishedPorts(t, "codecserver") {
		published = published || p.host == u.Port()
	}
	if !published {
		t.Errorf("temporal-ui: codec endpoint %s, but codecserver is not published on host port %s", ep, u.Port())
	}
	origins := codecserver.DefaultOrigins
	if o := flagValue(cs.argv(t, "codecserver")[1:], "origins", cs.env()["WA_CODEC_ORIGINS"]); o != "" {
		origins = codecserver.ParseList(o)
	}
	for _, p := range ui.publishedPorts(t, "temporal-ui") {
		for _, host := range []string{"localhost", "127.0.0.1"} {
			if o := "http://" + host + ":" + p.host; !slices.Contains(origins, o) {
				t.Errorf("temporal-ui is published as %s, an origin the codec server does not allow (%v)", o, origins)
			}
		}
	}
}

func checkSimulatorProfile(t *testing.T, cf composeFile) {
	t.Helper()
	s, ok := cf.Services["simulator"]
	if !ok {
		t.Fatal("no simulator service")
	}
	if !slices.Contains(s.strings("profiles"), "simulator") {
		t.Error("simulator: must run only under profiles: [simulator], never next to Meta's Graph API by default")
	}
	for name, svc := range cf.Services {
		for _, dep := range svc.dependsOn() {
			if dep == "simulator" {
				t.Errorf("service %s depends on the simulator, which runs only under its profile", name)
			}
		}
	}
}

// checkTopLevelSecrets: every secret is a file in deploy/secrets/, which
// git ignores entirely.
func checkTopLevelSecrets(t *testing.T, r *repo, cf composeFile) {
	t.Helper()
	if len(cf.Secrets) == 0 {
		t.Error("no secrets: section")
	}
	for name, v := range cf.Secrets {
		m, _ := v.(map[string]any)
		file, _ := m["file"].(string)
		if dir := path.Dir(path.Clean(strings.TrimPrefix(file, "./"))); dir != "deploy/secrets" {
			t.Errorf("secret %s: file %q, want a file in deploy/secrets/ (git-ignored, generated by make deploy-secrets)", name, file)
		}
	}
	ignore, err := os.ReadFile(r.path("deploy/secrets/.gitignore"))
	if err != nil || !slices.Contains(strings.Fields(string(ignore)), "*") {
		t.Errorf("deploy/secrets/.gitignore must ignore everything (*): %v", err)
	}
	script, err := os.ReadFile(r.path("deploy/secrets.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range cf.Secrets {
		if !regexp.MustCompile(`\bwrite ` + regexp.QuoteMeta(name) + `\b`).Match(script) {
			t.Errorf("secret %s: deploy/secrets.sh does not generate it", name)
		}
	}
}

// checkSearchAttributes: the one-shot setup registers exactly the search
// attributes of onboarding/names.go, with their types, in the namespace
// the processes use.
func checkSearchAttributes(t *testing.T, r *repo, cf composeFile) {
	t.Helper()
	names, err := os.ReadFile(r.path("onboarding/names.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, m := range regexp.MustCompile(`NewSearchAttributeKey(\w+)\("([^"]+)"\)`).FindAllSubmatch(names, -1) {
		want[string(m[2])] = string(m[1])
	}
	if len(want) == 0 {
		t.Fatal("no search attribute keys found in onboarding/names.go")
	}
	script, err := os.ReadFile(r.path("deploy/temporal/setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^for sa in (.*); do$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("deploy/temporal/setup.sh: no `for sa in NAME:TYPE ...; do` line")
	}
	got := map[string]string{}
	for _, f := range strings.Fields(string(m[1])) {
		n, typ, _ := strings.Cut(f, ":")
		got[n] = typ
	}
	if !mapsEqual(got, want) {
		t.Errorf("deploy/temporal/setup.sh registers %v, onboarding/names.go defines %v", got, want)
	}
	setup, ok := cf.Services["temporal-setup"]
	if !ok {
		t.Fatal("no temporal-setup service")
	}
	if w := cf.Services["worker"]; setup.env()["TEMPORAL_NAMESPACE"] != w.env()["TEMPORAL_NAMESPACE"] {
		t.Errorf("temporal-setup prepares namespace %q, the worker runs in %q", setup.env()["TEMPORAL_NAMESPACE"], w.env()["TEMPORAL_NAMESPACE"])
	}
	if !slices.Contains(cf.Services["worker"].dependsOn(), "temporal-setup") {
		t.Error("worker must depend on temporal-setup: it needs the search attributes")
	}
}

func TestDockerfile(t *testing.T) {
	r := newRepo(t)
	df, err := os.ReadFile(r.path("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]bool{}
	var users []string
	froms := 0
	for _, in := range dockerInstructions(string(df)) {
		f := strings.Fields(in)
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms++
			args := slices.DeleteFunc(f[1:], func(s string) bool { return strings.HasPrefix(s, "--") })
			img := args[0]
			if len(args) == 3 && strings.EqualFold(args[1], "AS") {
				stages[strings.ToLower(args[2])] = true
			}
			if img == "scratch" || stages[strings.ToLower(img)] {
				continue
			}
			if err := pinned(img, `^v?\d+\.\d+\.\d+`); err != nil {
				t.Errorf("Dockerfile: FROM %s: %v (pin the patch release)", img, err)
			}
		case "USER":
			users = append(users, f[1])
		case "ARG", "ENV":
			for _, kv := range f[1:] {
				k, _, _ := strings.Cut(kv, "=")
				if secretName.MatchString(k) {
					t.Errorf("Dockerfile: %s %s: no secret is baked into the image", f[0], k)
				}
			}
		case "COPY", "ADD":
			if strings.Contains(in, ".local") || strings.Contains(in, "secrets") {
				t.Errorf("Dockerfile: %q: keys and tokens are mounted at run time, never copied", in)
			}
		}
	}
	if froms < 2 {
		t.Errorf("Dockerfile has %d FROM: want a build stage and a runtime stage", froms)
	}
	if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0"}, users[len(users)-1]) {
		t.Errorf("Dockerfile: the runtime stage must run as a non-root USER (found %v)", users)
	}
	if !regexp.MustCompile(`CGO_ENABLED=0`).Match(df) {
		t.Error("Dockerfile: build with CGO_ENABLED=0 (static binaries for the runtime stage)")
	}
	// Every command of the repository is in the image, but for the
	// development harnesses, which start their own dev server and workers.
	built := dockerfileCommands(t, r)
	for _, dir := range r.mainDirs(t) {
		if devOnlyCommands[dir] {
			continue
		}
		if !slices.Contains(built, dir) {
			t.Errorf("Dockerfile does not build the command %s", dir)
		}
	}
}

func TestDockerignore(t *testing.T) {
	r := newRepo(t)
	c := newChecker(t)
	m := loadDockerignore(t, r.path(".dockerignore"))
	for _, p := range []string{
		".local/codec-keys", ".local/temporal.db", ".local/seal-private-keys",
		".tools/temporal-v1.5.1/temporal", "bin/worker", ".git/config", ".git",
		"deploy/secrets/codec-keys", "deploy/secrets/api-token", "deploy/secrets.sh",
		"temporal.db", "internal/graphsim/state.db", "internal/graphsim/state.db-wal",
		"internal/x/server.pem", "worker/client.key", "codec-keys", "worker/codec-token",
		".env", "worker/.env", "internal/codec/.local/x",
		"worker/main_test.go", "workflows/testdata/histories/happy.json", "e2e/e2e_test.go",
		"scripts/run-local.sh", "tools/temporal/go.mod", "README.md", "Makefile",
	} {
		if !m.excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum"} {
		if m.excluded(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
	// Every file the Dockerfile's commands compile or embed is in the
	// context.
	for _, cmd := range dockerfileCommands(t, r) {
		if !c.require("command "+cmd, r.isMainDir(cmd), "the Dockerfile builds %s, which is not a main package directory", cmd) {
			continue
		}
		for _, p := range r.command(t, cmd).pkgs {
			if !p.inModule() {
				continue
			}
			rel, err := filepath.Rel(r.root, p.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range append(slices.Clone(p.GoFiles), p.EmbedFiles...) {
				if fp := filepath.ToSlash(filepath.Join(rel, f)); m.excluded(fp) {
					t.Errorf(".dockerignore excludes %s, which %s needs (%s)", fp, cmd, p.ImportPath)
				}
			}
		}
	}
}

// TestDockerignoreMatcher pins the matcher to Docker's rules (moby's
// patternmatcher): the last matching pattern wins, a pattern matching a
// directory matches everything in it, ** spans directories.
func TestDockerignoreMatcher(t *testing.T) {
	m := parseDockerignore("*\n!src/\nsrc/**/*_test.go\n**/secret\n")
	for p, want := range map[string]bool{
		"a":                   true,
		"a/b":                 true,
		"src/x.go":            false,
		"src/x_test.go":       true,
		"src/a/b/x_test.go":   true,
		"src/a/secret":        true,
		"src/a/secret/inside": true,
		"src/a/secrets":       false,
	} {
		if got := m.excluded(p); got != want {
			t.Errorf("excluded(%q) = %v, want %v", p, got, want)
		}
	}
}

// --- compose file model ---

type composeFile struct {
	Services map[string]composeService
	Secrets  map[string]any
}

type composeService struct{ raw map[string]any }

func loadCompose(t *testing.T, file string) composeFile {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	cf := composeFile{Services: map[string]composeService{}}
	svcs, _ := doc["services"].(map[string]any)
	for name, v := range svcs {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("service %s: not a mapping", name)
		}
		cf.Services[name] = composeService{raw: m}
	}
	cf.Secrets, _ = doc["secrets"].(map[string]any)
	return cf
}

// isApp reports whether the service runs this repository's image.
func (s composeService) isApp() bool { _, ok := s.raw["build"]; return ok }

func (s composeService) str(k string) string { v, _ := s.raw[k].(string); return v }

func (s composeService) list(k string) []any { v, _ := s.raw[k].([]any); return v }

func (s composeService) strings(k string) []string {
	var out []string
	for _, v := range s.list(k) {
		out = append(out, scalar(v))
	}
	return out
}

// argv is entrypoint followed by command; both must use the list form.
func (s composeService) argv(t *testing.T, service string) []string {
	t.Helper()
	var argv []string
	for _, k := range []string{"entrypoint", "command"} {
		switch v := s.raw[k].(type) {
		case nil:
		case []any:
			for _, a := range v {
				argv = append(argv, scalar(a))
			}
		default:
			t.Errorf("service %s: %s must be a list, so that no shell is involved and this test can read it", service, k)
		}
	}
	return argv
}

func (s composeService) env() map[string]string {
	out := map[string]string{}
	switch v := s.raw["environment"].(type) {
	case map[string]any:
		for k, val := range v {
			out[k] = scalar(val)
		}
	case []any:
		for _, kv := range v {
			k, val, _ := strings.Cut(scalar(kv), "=")
			out[k] = val
		}
	}
	return out
}

func (s composeService) dependsOn() []string {
	switch v := s.raw["depends_on"].(type) {
	case []any:
		var out []string
		for _, d := range v {
			out = append(out, scalar(d))
		}
		return out
	case map[string]any:
		return sortedKeys(v)
	}
	return nil
}

type publishedPort struct{ hostIP, host, container string }

func (s composeService) publishedPorts(t *testing.T, service string) []publishedPort {
	t.Helper()
	var out []publishedPort
	for _, p := range s.list("ports") {
		switch p := p.(type) {
		case map[string]any:
			out = append(out, publishedPort{hostIP: scalar(p["host_ip"]), host: scalar(p["published"]), container: scalar(p["target"])})
		default:
			spec, _, _ := strings.Cut(scalar(p), "/")
			parts := strings.Split(spec, ":")
			pp := publishedPort{container: parts[len(parts)-1]}
			if len(parts) >= 2 {
				pp.host = parts[len(parts)-2]
			}
			if len(parts) >= 3 {
				pp.hostIP = strings.Trim(strings.Join(parts[:len(parts)-2], ":"), "[]")
			}
			out = append(out, pp)
		}
	}
	return out
}

func (s composeService) containerPorts(t *testing.T, service string) []string {
	t.Helper()
	var out []string
	for _, p := range s.publishedPorts(t, service) {
		out = append(out, p.container)
	}
	for _, e := range s.list("expose") {
		p, _, _ := strings.Cut(scalar(e), "/")
		out = append(out, p)
	}
	return out
}

func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// flagValue returns the value given to -name in args, or def.
func flagValue(args []string, name, def string) string {
	for i, a := range args {
		n, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || n != name {
			continue
		}
		if hasValue {
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return def
}

func splitHostPort(addr string) (host, port string, err error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", "", errors.New("no port")
	}
	return strings.Trim(addr[:i], "[]"), addr[i+1:], nil
}

// --- Dockerfile ---

// dockerInstructions joins continuation lines and drops comments.
func dockerInstructions(df string) []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(df, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur += s + " "
			continue
		}
		cur += trimmed
		if strings.TrimSpace(cur) != "" {
			out = append(out, strings.TrimSpace(cur))
		}
		cur = ""
	}
	return out
}

// dockerfileCommands returns the directories the Dockerfile's go build
// compiles (./NAME arguments).
func dockerfileCommands(t *testing.T, r *repo) []string {
	t.Helper()
	df, err := os.ReadFile(r.path("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range dockerInstructions(string(df)) {
		i := strings.Index(in, "go build ")
		if i < 0 {
			continue
		}
		for _, f := range strings.Fields(in[i:]) {
			if f == "&&" || f == ";" {
				break
			}
			if d, ok := strings.CutPrefix(f, "./"); ok {
				out = append(out, d)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("Dockerfile: no `go build ./cmd ...` found")
	}
	return out
}

// --- .dockerignore, by moby's patternmatcher rules ---

type ignorePattern struct {
	re     *regexp.Regexp
	negate bool
}

type dockerignore []ignorePattern

func loadDockerignore(t *testing.T, file string) dockerignore {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseDockerignore(string(b))
}

func parseDockerignore(s string) dockerignore {
	var m dockerignore
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.negate, line = true, strings.TrimSpace(rest)
		}
		line = strings.TrimPrefix(path.Clean(line), "/")
		p.re = regexp.MustCompile(patternRegexp(line))
		m = append(m, p)
	}
	return m
}

func patternRegexp(p string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++
			}
			if i+1 >= len(p) {
				b.WriteString(".*")
			} else {
				b.WriteString("(.*/)?")
			}
		case ch == '*':
			b.WriteString("[^/]*")
		case ch == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// excluded reports whether the file (slash-separated, relative to the
// context) stays out of the build context: the last pattern matching it or
// one of its parent directories decides.
func (m dockerignore) excluded(file string) bool {
	parents := []string{}
	for d := path.Dir(file); d != "."; d = path.Dir(d) {
		parents = append(parents, d)
	}
	out := false
	for _, p := range m {
		match := p.re.MatchString(file)
		for _, d := range parents {
			match = match || p.re.MatchString(d)
		}
		if match {
			out = !p.negate
		}
	}
	return out
}

// --- the repository's code ---

type repo struct {
	root string
	mu   sync.Mutex
	cmds map[string]*commandCode
	lits map[string]map[string]bool // dir -> string literals
	doc  string
}

var (
	repoOnce sync.Once
	theRepo  *repo
)

func newRepo(t *testing.T) *repo {
	t.Helper()
	repoOnce.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			panic(err)
		}
		theRepo = &repo{root: root, cmds: map[string]*commandCode{}, lits: map[string]map[string]bool{}}
	})
	return theRepo
}

func (r *repo) path(rel string) string { return filepath.Join(r.root, filepath.FromSlash(rel)) }

func (r *repo) readme(t *testing.T) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.doc == "" {
		b, err := os.ReadFile(r.path("README.md"))
		if err != nil {
			t.Fatal(err)
		}
		r.doc = string(b)
	}
	return r.doc
}

// isMainDir reports whether the top-level directory holds a main package.
func (r *repo) isMainDir(dir string) bool {
	if strings.Contains(dir, "/") || strings.HasPrefix(dir, ".") {
		return false
	}
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(r.path(dir), "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly); err == nil && af.Name.Name == "main" {
			return true
		}
	}
	return false
}

// mainDirs lists the top-level directories holding a main package.
func (r *repo) mainDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(r.root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && r.isMainDir(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// flags returns the flags a command's main package defines, name -> bool
// flag, read from its source: calls .String("name", ...), .BoolVar(&v,
// "name", ...) and the like on the flag package or a FlagSet.
func (r *repo) flags(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	firstArg := map[string]bool{"String": false, "Bool": true, "Int": false, "Int64": false, "Uint": false, "Uint64": false,
		"Float64": false, "Duration": false, "Func": false, "BoolFunc": true}
	secondArg := map[string]bool{"StringVar": false, "BoolVar": true, "IntVar": false, "Int64Var": false, "UintVar": false,
		"Uint64Var": false, "Float64Var": false, "DurationVar": false, "Var": false, "TextVar": false}
	out := map[string]bool{}
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(r.path(cmd), "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			idx, isBool := 0, false
			if b, ok := firstArg[sel.Sel.Name]; ok {
				isBool = b
			} else if b, ok := secondArg[sel.Sel.Name]; ok {
				idx, isBool = 1, b
			} else {
				return true
			}
			if len(call.Args) <= idx {
				return true
			}
			if lit, ok := call.Args[idx].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil {
					out[name] = isBool
				}
			}
			return true
		})
	}
	return out
}

// goPackage is what `go list -json` says of one package.
type goPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	EmbedFiles []string
	Imports    []string
	Module     *struct{ Main bool }
}

func (p goPackage) inModule() bool { return p.Module != nil && p.Module.Main }

// commandCode is a command's packages and their dependencies, as the image
// builds them (CGO_ENABLED=0), standard library excluded.
type commandCode struct {
	cmd  string
	pkgs []goPackage
	lits []map[string]bool // per package
}

func (r *repo) command(t *testing.T, cmd string) *commandCode {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cmds[cmd]; ok {
		return c
	}
	list := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Standard,GoFiles,EmbedFiles,Imports,Module", "./"+cmd)
	list.Dir = r.root
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v\n%s", cmd, err, stderr.String())
	}
	c := &commandCode{cmd: cmd}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Standard {
			continue
		}
		c.pkgs = append(c.pkgs, p)
		c.lits = append(c.lits, r.literals(t, p))
	}
	r.cmds[cmd] = c
	return c
}

// literals returns the string literals of a package's compiled files.
func (r *repo) literals(t *testing.T, p goPackage) map[string]bool {
	t.Helper()
	if l, ok := r.lits[p.Dir]; ok {
		return l
	}
	l := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range p.GoFiles {
		src, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var s scanner.Scanner
		s.Init(fset.AddFile(f, -1, len(src)), src, nil, 0)
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.STRING {
				if v, err := strconv.Unquote(lit); err == nil {
					l[v] = true
				}
			}
		}
	}
	r.lits[p.Dir] = l
	return l
}

func (c *commandCode) hasLiteral(s string) bool {
	for _, l := range c.lits {
		if l[s] {
			return true
		}
	}
	return false
}

// hasLiteralInMain reports whether the command's own package has the literal.
func (c *commandCode) hasLiteralInMain(s string) bool {
	for i, p := range c.pkgs {
		if p.ImportPath == modulePath+"/"+c.cmd && c.lits[i][s] {
			return true
		}
	}
	return false
}

func (c *commandCode) readsEnv(name string) bool {
	if c.hasLiteral(name) {
		return true
	}
	base, ok := strings.CutSuffix(name, "_FILE")
	if !ok {
		return false
	}
	for i, p := range c.pkgs {
		if c.lits[i][base] && slices.Contains(p.Imports, modulePath+"/internal/secretenv") {
			return true
		}
	}
	return false
}

// --- helpers ---

func containsWord(text, word string) bool {
	return regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(word) + `($|[^A-Za-z0-9_])`).MatchString(text)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

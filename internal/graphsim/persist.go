package graphsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateVersion is the format of the state file; a file of another version
// is refused rather than half read.
const stateVersion = 1

// persisted is the state file: everything Meta would remember, so that a
// restarted simulator answers as the one that stopped. The call log and
// pending faults are a test's instruments, not Meta's state, and are not
// kept.
type persisted struct {
	Version     int                       `json:"version"`
	NextID      int64                     `json:"next_id"`
	Seq         int64                     `json:"seq"`
	Clock       *persistedClock           `json:"clock,omitempty"`
	WABAs       []string                  `json:"wabas"`
	Numbers     []persistedNumber         `json:"numbers"`
	Deleted     map[string]time.Time      `json:"deleted,omitempty"` // by E.164 digits
	Preverified map[string]persistedPreID `json:"preverified,omitempty"`
	Windows     []persistedWindow         `json:"windows,omitempty"`
}

// persistedClock is an adjustable clock's position: the offset of a
// ShiftedClock, or the time of a ManualClock.
type persistedClock struct {
	Offset time.Duration `json:"offset,omitempty"`
	Now    time.Time     `json:"now,omitzero"`
}

type persistedNumber struct {
	ID           string      `json:"id"`
	WABAID       string      `json:"waba_id,omitempty"`
	CC           string      `json:"cc"`
	National     string      `json:"national"`
	Seq          int64       `json:"seq"`
	VerifiedName string      `json:"verified_name"`
	NameStatus   string      `json:"name_status"`
	NameReadyAt  time.Time   `json:"name_ready_at,omitzero"`
	CodeStatus   string      `json:"code_status"`
	Status       string      `json:"status"`
	Platform     string      `json:"platform"`
	Quality      string      `json:"quality"`
	Region       string      `json:"region,omitempty"`
	PIN          string      `json:"pin,omitempty"`
	Code         *SentCode   `json:"code,omitempty"`
	CodeRequests []time.Time `json:"code_requests,omitempty"`
	DeletedAt    time.Time   `json:"deleted_at,omitzero"`
	Forgotten    bool        `json:"forgotten,omitempty"`
}

type persistedPreID struct {
	CC       string `json:"cc"`
	National string `json:"national"`
}

type persistedWindow struct {
	Digits       string      `json:"digits"`
	Op           string      `json:"op"`
	Requests     []time.Time `json:"requests"`
	BlockedUntil time.Time   `json:"blocked_until,omitzero"`
}

// PersistTo keeps the simulator's state in the file at path: it loads the
// file if it exists, replacing the state in memory, and from then on writes
// the whole state there after every change, before the change is answered,
// by writing a temporary file and renaming it over path so that a crash
// leaves the old state or the new one, never half of either. A missing file
// is created. Call it once, before serving; it fails, naming the file, on a
// file it cannot read or parse.
//
// The file holds PINs and ownership codes in clear, as Meta's side of the
// onboarding does; it is written readable by its owner only.
func (s *Server) PersistTo(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("graphsim: state file %s: %w", path, err)
	default:
		var st persisted
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&st); err != nil {
			return fmt.Errorf("graphsim: state file %s is not a simulator state (delete it to start afresh): %w", path, err)
		}
		if st.Version != stateVersion {
			return fmt.Errorf("graphsim: state file %s has version %d, this simulator reads version %d (delete it to start afresh)",
				path, st.Version, stateVersion)
		}
		if err := s.restore(st); err != nil {
			return fmt.Errorf("graphsim: state file %s: %w", path, err)
		}
		s.log.Info("state loaded", "file", path, "wabas", len(s.wabas), "numbers", len(s.numbers), "next_id", s.nextID)
	}
	s.statePath = path
	if err := s.saveLocked(); err != nil {
		s.statePath = ""
		return err
	}
	return nil
}

// restore replaces the state with st. The caller holds s.mu.
func (s *Server) restore(st persisted) error {
	numbers := make(map[string]*number, len(st.Numbers))
	live := map[string]*number{}
	for _, p := range st.Numbers {
		if p.ID == "" || numbers[p.ID] != nil {
			return fmt.Errorf("number with empty or repeated id %q", p.ID)
		}
		n := &number{
			id: p.ID, wabaID: p.WABAID, cc: p.CC, national: p.National, seq: p.Seq,
			verifiedName: p.VerifiedName, nameStatus: p.NameStatus, nameReadyAt: p.NameReadyAt,
			codeStatus: p.CodeStatus, status: p.Status, platform: p.Platform, quality: p.Quality,
			region: p.Region, pin: p.PIN, code: p.Code, codeRequests: p.CodeRequests,
			deletedAt: p.DeletedAt, forgotten: p.Forgotten,
		}
		numbers[n.id] = n
		if n.deletedAt.IsZero() && !n.forgotten {
			if other := live[n.digits()]; other != nil {
				return fmt.Errorf("numbers %s and %s are both live as +%s", other.id, n.id, n.digits())
			}
			live[n.digits()] = n
		}
	}
	s.wabas = map[string]bool{}
	for _, id := range st.WABAs {
		s.wabas[id] = true
	}
	s.numbers, s.live = numbers, live
	s.deleted = map[string]time.Time{}
	for k, v := range st.Deleted {
		s.deleted[k] = v
	}
	s.preverified = map[string]*preverified{}
	for id, p := range st.Preverified {
		s.preverified[id] = &preverified{cc: p.CC, national: p.National}
	}
	s.windows = map[windowKey]*window{}
	for _, w := range st.Windows {
		s.windows[windowKey{w.Digits, w.Op}] = &window{reqs: w.Requests, blockedUntil: w.BlockedUntil}
	}
	// IDs are never handed out twice: the counter goes on from where it
	// stopped, or from this run's seed if that is further.
	s.nextID = max(s.nextID, st.NextID)
	s.seq = max(s.seq, st.Seq)
	if st.Clock != nil {
		switch c := s.opts.Clock.(type) {
		case *ShiftedClock:
			c.SetOffset(st.Clock.Offset)
		case *ManualClock:
			if !st.Clock.Now.IsZero() {
				c.Set(st.Clock.Now)
			}
		default:
			s.log.Warn("the state file was written with a fake clock and the simulator now runs on the wall clock; times in it may lie ahead",
				"offset", st.Clock.Offset)
		}
	}
	return nil
}

// snapshotState captures the state for the file. The caller holds s.mu.
func (s *Server) snapshotState() persisted {
	st := persisted{Version: stateVersion, NextID: s.nextID, Seq: s.seq}
	switch c := s.opts.Clock.(type) {
	case *ShiftedClock:
		st.Clock = &persistedClock{Offset: c.Offset()}
	case *ManualClock:
		st.Clock = &persistedClock{Now: c.Now()}
	}
	for id := range s.wabas {
		st.WABAs = append(st.WABAs, id)
	}
	slices.Sort(st.WABAs)
	for _, n := range s.numbers {
		st.Numbers = append(st.Numbers, persistedNumber{
			ID: n.id, WABAID: n.wabaID, CC: n.cc, National: n.national, Seq: n.seq,
			VerifiedName: n.verifiedName, NameStatus: n.nameStatus, NameReadyAt: n.nameReadyAt,
			CodeStatus: n.codeStatus, Status: n.status, Platform: n.platform, Quality: n.quality,
			Region: n.region, PIN: n.pin, Code: n.code, CodeRequests: n.codeRequests,
			DeletedAt: n.deletedAt, Forgotten: n.forgotten,
		})
	}
	slices.SortFunc(st.Numbers, func(a, b persistedNumber) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.ID, b.ID))
	})
	if len(s.deleted) > 0 {
		st.Deleted = s.deleted
	}
	if len(s.preverified) > 0 {
		st.Preverified = map[string]persistedPreID{}
		for id, p := range s.preverified {
			st.Preverified[id] = persistedPreID{CC: p.cc, National: p.national}
		}
	}
	for k, w := range s.windows {
		st.Windows = append(st.Windows, persistedWindow{Digits: k.digits, Op: k.op, Requests: w.reqs, BlockedUntil: w.blockedUntil})
	}
	slices.SortFunc(st.Windows, func(a, b persistedWindow) int {
		return cmp.Or(cmp.Compare(a.Digits, b.Digits), cmp.Compare(a.Op, b.Op))
	})
	return st
}

// saveLocked writes the state file if the state changed since the last
// write. The caller holds s.mu, so writes happen in the order of the
// changes and a change is on disk before it is answered.
func (s *Server) saveLocked() error {
	if s.statePath == "" {
		return nil
	}
	data, err := json.MarshalIndent(s.snapshotState(), "", " ")
	if err != nil {
		return fmt.Errorf("graphsim: state file %s: %w", s.statePath, err)
	}
	if bytes.Equal(data, s.saved) {
		return nil
	}
	if err := writeAtomic(s.statePath, data); err != nil {
		return fmt.Errorf("graphsim: state file %s: %w", s.statePath, err)
	}
	s.saved = data
	return nil
}

// persist saves after a change and logs a failure: the change has happened
// in memory and is answered, but would not survive a restart. The caller
// holds s.mu.
func (s *Server) persist() {
	if err := s.saveLocked(); err != nil {
		s.log.Error("state not saved; a restart would lose the last change", "error", err)
	}
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over path.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

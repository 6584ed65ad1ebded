package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// keyFileCheckEvery is how often the key file is looked at for changes:
// often enough that a revoked key stops working within seconds, rarely
// enough that a flood of requests does not turn into a flood of stat calls.
const keyFileCheckEvery = time.Second

// apiKeys accepts the keys whose SHA-256 digests are listed in a file, and
// re-reads the file when its size or modification time changes.
type apiKeys struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	keys atomic.Pointer[map[string]string] // hex digest -> caller id

	mu      sync.Mutex // guards the fields below, held while reloading
	checked time.Time
	modTime time.Time
	size    int64
}

func newAPIKeys(path string, now func() time.Time, log *slog.Logger) (*apiKeys, error) {
	k := &apiKeys{path: path, now: now, log: log}
	if err := k.load(); err != nil {
		return nil, err
	}
	k.checked = now()
	return k, nil
}

// load reads the file; the caller holds mu, or is newAPIKeys.
func (k *apiKeys) load() error {
	fi, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("auth: API key file: %w", err)
	}
	raw, err := os.ReadFile(k.path)
	if err != nil {
		return fmt.Errorf("auth: API key file: %w", err)
	}
	keys, err := parseKeyFile(raw)
	if err != nil {
		return fmt.Errorf("auth: API key file %s: %w", k.path, err)
	}
	k.keys.Store(&keys)
	k.modTime, k.size = fi.ModTime(), fi.Size()
	return nil
}

// parseKeyFile reads one lower- or upper-case hex SHA-256 digest per line,
// optionally followed by a space and the key's name; blank lines and lines
// starting with # are skipped.
func parseKeyFile(raw []byte) (map[string]string, error) {
	keys := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		digest, name, _ := strings.Cut(line, " ")
		digest = strings.ToLower(digest)
		if b, err := hex.DecodeString(digest); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("line %d: want a SHA-256 hex digest (64 characters), then optionally a space and a name", n)
		}
		name = strings.TrimSpace(name)
		if name == "" {
			name = digest[:16]
		}
		keys[digest] = name
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return keys, nil
}

// reloadIfChanged looks at the file at most every keyFileCheckEvery. A
// file that became unreadable or invalid keeps the last good keys, and
// says so in the log.
func (k *apiKeys) reloadIfChanged() {
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.checked) < keyFileCheckEvery {
		return
	}
	k.checked = now
	fi, err := os.Stat(k.path)
	if err != nil {
		k.log.Warn("API key file unreadable, keeping the keys loaded before", "path", k.path, "err", err)
		return
	}
	if fi.ModTime().Equal(k.modTime) && fi.Size() == k.size {
		return
	}
	if err := k.load(); err != nil {
		k.log.Warn("API key file invalid, keeping the keys loaded before", "err", err)
		return
	}
	k.log.Info("API key file reloaded", "path", k.path, "keys", len(*k.keys.Load()))
}

// check accepts key when its digest is listed.
func (k *apiKeys) check(key string) (Caller, *Refusal) {
	k.reloadIfChanged()
	sum := sha256.Sum256([]byte(key))
	if name, ok := (*k.keys.Load())[hex.EncodeToString(sum[:])]; ok {
		return Caller{Method: MethodAPIKey, ID: name}, nil
	}
	return Caller{}, &Refusal{Status: http.StatusUnauthorized, Message: "the API key was refused", Challenge: `Bearer realm="covage-gateway"`}
}

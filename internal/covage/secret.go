package covage

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every rendering of a Secret prints.
const redacted = "[REDACTED]"

// Secret is a credential (password, bearer token) that redacts itself
// wherever it may be printed: fmt verbs, slog attributes and JSON. Only Reveal
// returns the value, so each place a credential leaves the process is visible
// in the code.
type Secret string

// Reveal returns the credential itself.
func (s Secret) Reveal() string { return string(s) }

// String redacts the secret.
func (Secret) String() string { return redacted }

// GoString redacts the secret for %#v.
func (Secret) GoString() string { return redacted }

// Format redacts the secret for every fmt verb, including %q, %x and %d,
// which would otherwise bypass String.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue redacts the secret in slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the secret in JSON output.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

package telemetry

import (
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/debug"
)

// BuildInfo describes the running binary.
type BuildInfo struct {
	// Version is the release (set with -ldflags) or the module version; "dev"
	// when neither is known.
	Version string `json:"version"`
	// Revision is the VCS commit; "unknown" when built without VCS stamping
	// (go build -buildvcs=false, as CI does, or outside a checkout).
	Revision string `json:"revision"`
	// Modified reports uncommitted changes at build time.
	Modified  bool   `json:"modified,omitempty"`
	Time      string `json:"time,omitempty"`
	GoVersion string `json:"goVersion"`
	Module    string `json:"module,omitempty"`
}

// ReadBuildInfo describes this binary. version is the one set at build time
// with -ldflags; "" or "dev" defers to the module's version.
func ReadBuildInfo(version string) BuildInfo {
	b := BuildInfo{Version: version, Revision: "unknown", GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.Module = info.Main.Path
		if (b.Version == "" || b.Version == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// UserAgent is what the gateway sends Covage, e.g.
// "covage-gateway/v1.2.0 (rev 0123456789ab; go1.26.8)".
func (b BuildInfo) UserAgent() string {
	rev := b.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "covage-gateway/" + b.Version + " (rev " + rev + "; " + b.GoVersion + ")"
}

// Handler serves b as JSON, for /version.
func (b BuildInfo) Handler() http.Handler {
	body, _ := json.Marshal(b)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// Package app builds okrd from its options and runs the long-lived parts
// together: the HTTP server, one poll loop per source, the evaluator and
// configuration reloads. Everything here can be started in a test on
// 127.0.0.1:0.
package app

import (
	"log/slog"
	"time"
)

// Options are what the command line decides.
type Options struct {
	// ConfigFile is the path of the TOML configuration.
	ConfigFile string
	// ListenAddresses overrides server.listen_address when not empty.
	ListenAddresses []string
	// WebConfigFile is an exporter-toolkit web configuration (TLS, basic auth).
	WebConfigFile string
	// EnableLifecycle lets any client POST /-/reload
	// (--web.enable-lifecycle). Without it a reload over HTTP needs the API
	// token; SIGHUP always reloads.
	EnableLifecycle bool
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Version is reported in okrd_build_info and the API.
	Version string
	// NoStartJitter makes every source poll at once when okrd starts,
	// instead of after a random delay of up to five seconds that keeps a
	// restart from hitting every API at the same instant (okrd demo).
	NoStartJitter bool
	// ShutdownTimeout bounds how long in-flight requests and writes may take
	// to finish after the context is cancelled. Default 15s.
	ShutdownTimeout time.Duration
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Package dsnredact keeps database passwords out of errors: the store and
// the sql source both open PostgreSQL DSNs whose password must never reach a
// log line or an error message.
package dsnredact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The DSN's password must never reach a log line or an error message, yet
// both lib/pq and net/url can quote the DSN: url.Parse errors include the
// whole URL. Errors whose text contains a secret are replaced by a copy with
// the secret masked; that copy does not unwrap, because the original would
// print the secret again.

// Mask replaces a secret in a message.
const Mask = "<secret>"

type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }

// Error returns err unchanged unless its text contains one of secrets.
func Error(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	leaked := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, Mask)
			leaked = true
		}
	}
	if !leaked {
		return err
	}
	return &redactedError{msg: msg}
}

var kvPassword = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// Secrets lists every form in which the password of dsn might be quoted:
// the password as written (raw and percent-decoded, quoted and unquoted) and
// as parsed, longest first so a longer form is masked before a shorter one
// inside it, and last the whole DSN, which is masked only if the password
// was not found in it. It works on DSNs lib/pq rejects.
func Secrets(dsn, parsed string) []string {
	out := []string{parsed}
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				out = append(out, pw)
				if dec, err := url.PathUnescape(pw); err == nil {
					out = append(out, dec)
				}
			}
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		pw := m[1]
		out = append(out, pw)
		if strings.HasPrefix(pw, "'") && strings.HasSuffix(pw, "'") && len(pw) >= 2 {
			inner := pw[1 : len(pw)-1]
			out = append(out, inner, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(inner))
		}
	}
	kept := out[:0]
	for _, s := range out {
		if s != "" {
			kept = append(kept, s)
		}
	}
	slices.SortStableFunc(kept, func(a, b string) int { return len(b) - len(a) })
	return append(kept, dsn)
}

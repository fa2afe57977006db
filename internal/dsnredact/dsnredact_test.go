package dsnredact

import (
	"errors"
	"strings"
	"testing"
)

func TestSecretsAreMaskedInEveryFormTheyAppear(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, msg string
	}{
		{"a URL password", "postgres://okrd:s3cret@db/x", `parse "postgres://okrd:s3cret@db/x": bad`},
		{"a percent-encoded URL password, decoded in the message", "postgres://okrd:s3%40cret@db/x", "password s3@cret rejected"},
		{"a quoted key=value password", "host=db password='s3 cret' dbname=x", "dsn host=db password='s3 cret'"},
		{"an unquoted key=value password", "host=db password=s3cret dbname=x", "bad password=s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Error(errors.New(tc.msg), Secrets(tc.dsn, ""))
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "s3@cret") || strings.Contains(err.Error(), "s3 cret") {
				t.Errorf("secret in %q", err)
			}
			if !strings.Contains(err.Error(), Mask) {
				t.Errorf("no mask in %q", err)
			}
		})
	}
	plain := errors.New("connection refused")
	if got := Error(plain, Secrets("postgres://okrd:s3cret@db/x", "")); got != plain {
		t.Error("an error without a secret should come back unchanged")
	}
}

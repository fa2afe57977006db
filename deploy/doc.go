// Package deploy holds the tests of okrd's deploy kit: the compose
// quickstart in compose/, the Kubernetes manifests in kubernetes/ and the
// systemd unit in systemd/. It is a module of its own, so that the
// libraries that check those files (the compose specification's loader,
// the Kubernetes and Prometheus Operator API types) stay out of okrd's own
// dependencies; `make test` runs it after okrd's tests.
package deploy

package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// maxSecretFileSize bounds what a *_file key reads: secrets are short, and
// a mistaken path to a large file should fail instead of filling memory.
const maxSecretFileSize = 1 << 20

var secretType = reflect.TypeOf(Secret(""))

// resolveSecretFiles fills every Secret field `X` of the struct pointed to
// by ptr from its sibling string field `X_file`, if the struct has one and
// it is set. Setting both is an error: a secret must have one origin, or a
// reader of the config cannot tell which one is in effect. Nested structs
// (and slices of them) are handled too, so a source type only has to
// declare the pair of fields.
func resolveSecretFiles(c *collector, dir, path string, ptr any) {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	resolveSecretFilesValue(c, dir, path, v.Elem())
}

func resolveSecretFilesValue(c *collector, dir, path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			resolveSecretFilesValue(c, dir, path, v.Elem())
		}
		return
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			resolveSecretFilesValue(c, dir, indexPath(path, i), v.Index(i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	if v.Type() == dateType {
		return
	}
	fields := structFields(v.Type())
	for _, f := range fields.list {
		fv := v.FieldByIndex(f.index)
		if f.typ != secretType {
			resolveSecretFilesValue(c, dir, joinPath(path, f.name), fv)
			continue
		}
		ff, ok := fields.byName[f.name+"_file"]
		if !ok || ff.typ.Kind() != reflect.String {
			continue
		}
		filePath := joinPath(path, ff.name)
		name := v.FieldByIndex(ff.index).String()
		if name == "" || c.failed[filePath] {
			continue
		}
		if fv.String() != "" {
			c.check(filePath, "cannot be combined with %s: set one of them", f.name)
			continue
		}
		secret, err := readSecretFile(dir, name)
		if err != nil {
			c.fail(filePath, "%v", err)
			continue
		}
		fv.SetString(secret)
	}
}

// readSecretFile reads a secret from a file. A relative name is resolved
// against dir, the directory of the config file, so that a config and its
// secrets can be moved together. One trailing newline (as editors and
// `echo` write) is removed.
func readSecretFile(dir, name string) (string, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	// Stat before opening: opening a FIFO (or a terminal) would block the
	// loader, and only a regular file can hold a secret anyway.
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %q: %v", p, pathErrorCause(err))
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("cannot read %q: not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %q: %v", p, pathErrorCause(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %q: %v", p, pathErrorCause(err))
	}
	if len(b) > maxSecretFileSize {
		return "", fmt.Errorf("cannot read %q: larger than 1 MiB, which no secret is", p)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("file %q is empty", p)
	}
	return s, nil
}

// pathErrorCause drops the path an *fs.PathError repeats, since the message
// already names the file.
func pathErrorCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

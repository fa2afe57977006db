package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// A page's paging fields (Cloud's nextPageToken comes after the issues)
// are read before its issues are decoded, so that the next request can go
// out first. encoding/json checks a whole document before it decodes any
// of it, so reading them with it would scan every page twice more than
// decoding the issues does; members and elements instead only find where
// each value ends (minding strings, their escapes and nesting), and leave
// checking the values to encoding/json when they are decoded.

var errTruncated = errors.New("unexpected end of JSON input")

// members splits a JSON object into its members' raw values.
func members(data []byte) (map[string][]byte, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := map[string][]byte{}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return out, trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, syntaxAt(data, i, "a member name")
		}
		end, err := skipString(data, i)
		if err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(data[i:end], &key); err != nil {
			return nil, err
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, syntaxAt(data, i, "':'")
		}
		i = skipSpace(data, i+1)
		end, err = skipValue(data, i)
		if err != nil {
			return nil, err
		}
		out[key] = data[i:end]
		i = skipSpace(data, end)
		if i >= len(data) {
			return nil, errTruncated
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return out, trailing(data, i+1)
		default:
			return nil, syntaxAt(data, i, "',' or '}'")
		}
	}
}

// elements splits a JSON array (or null) into its elements' raw values.
func elements(data []byte) ([][]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	if data[0] != '[' {
		return nil, errors.New("not a JSON array")
	}
	var out [][]byte
	i := skipSpace(data, 1)
	if i < len(data) && data[i] == ']' {
		return out, trailing(data, i+1)
	}
	for {
		end, err := skipValue(data, i)
		if err != nil {
			return nil, err
		}
		out = append(out, data[i:end])
		i = skipSpace(data, end)
		if i >= len(data) {
			return nil, errTruncated
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return out, trailing(data, i+1)
		default:
			return nil, syntaxAt(data, i, "',' or ']'")
		}
	}
}

// skipValue returns the end of the value that starts at i.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errTruncated
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		// Brackets are counted, not matched: encoding/json checks the
		// value when it decodes it.
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, err := skipString(data, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errTruncated
	case ',', ':', '}', ']':
		return 0, syntaxAt(data, i, "a value")
	}
	// A number or a literal: up to the next delimiter.
	start := i
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, nil
		}
		i++
	}
	if i == start {
		return 0, errTruncated
	}
	return i, nil
}

// skipString returns the end of the string whose opening quote is at i.
func skipString(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); {
		k := bytes.IndexAny(data[j:], "\"\\")
		if k < 0 {
			break
		}
		j += k
		if data[j] == '"' {
			return j + 1, nil
		}
		j += 2 // an escape: the next byte is not a closing quote
	}
	return 0, errTruncated
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func trailing(data []byte, i int) error {
	if i = skipSpace(data, i); i < len(data) {
		return syntaxAt(data, i, "the end")
	}
	return nil
}

func syntaxAt(data []byte, i int, want string) error {
	if i >= len(data) {
		return errTruncated
	}
	return fmt.Errorf("invalid character %q at offset %d, want %s", data[i], i, want)
}

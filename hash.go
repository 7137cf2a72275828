package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"unsafe"
)

// A Hash is one record as a backend sent it, before a serializer reads it:
// the members of a JSON object, in order, with their values as raw JSON.
// Serializer hooks reshape it, as Ember's normalize(typeClass, hash) does:
//
//	h.Rename("song_count", "songCount")
//
// A Hash passed to a hook is valid only during the call, and is not safe
// for concurrent use.
type Hash struct {
	members []hashMember
	// idx indexes members by key once a hash read from a payload grows
	// past a few members, so that reading a hostile hash stays linear.
	// Changes through the methods drop it.
	idx map[string]int
}

// hashIndexFrom is the member count from which readHash indexes keys.
const hashIndexFrom = 16

type hashMember struct {
	key string
	val json.RawMessage
}

// Len returns the number of members.
func (h *Hash) Len() int { return len(h.members) }

// All iterates over the members in order, as key and raw JSON value.
func (h *Hash) All() iter.Seq2[string, json.RawMessage] {
	return func(yield func(string, json.RawMessage) bool) {
		for _, m := range h.members {
			if !yield(m.key, m.val) {
				return
			}
		}
	}
}

func (h *Hash) index(key string) int {
	if h.idx != nil {
		if i, ok := h.idx[key]; ok {
			return i
		}
		return -1
	}
	for i := range h.members {
		if h.members[i].key == key {
			return i
		}
	}
	return -1
}

// Raw returns the raw JSON value of member key.
func (h *Hash) Raw(key string) (json.RawMessage, bool) {
	if i := h.index(key); i >= 0 {
		return h.members[i].val, true
	}
	return nil, false
}

// Has reports whether the hash has member key.
func (h *Hash) Has(key string) bool { return h.index(key) >= 0 }

// Decode decodes member key into v with encoding/json and reports whether
// the member exists.
func (h *Hash) Decode(key string, v any) (bool, error) {
	raw, ok := h.Raw(key)
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// Set sets member key to v, encoded with encoding/json unless it is a
// json.RawMessage, which must be valid JSON. A new member goes last.
func (h *Hash) Set(key string, v any) error {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Errorf("recstore: Hash.Set %q: %w", key, err)
		}
	} else if !json.Valid(raw) {
		return fmt.Errorf("recstore: Hash.Set %q: invalid JSON", key)
	}
	if i := h.index(key); i >= 0 {
		h.members[i].val = raw
		return nil
	}
	h.idx = nil
	h.members = append(h.members, hashMember{key, raw})
	return nil
}

// Delete removes member key, if present.
func (h *Hash) Delete(key string) {
	if i := h.index(key); i >= 0 {
		h.idx = nil
		h.members = append(h.members[:i], h.members[i+1:]...)
	}
}

// Rename renames member from to to, replacing any member named to, and
// reports whether from was present.
func (h *Hash) Rename(from, to string) bool {
	i := h.index(from)
	if i < 0 {
		return false
	}
	if from == to {
		return true
	}
	j := h.index(to)
	h.idx = nil
	if j >= 0 {
		h.members[j].val = h.members[i].val
		h.members = append(h.members[:i], h.members[i+1:]...)
		return true
	}
	h.members[i].key = to
	return true
}

// String returns the hash as a JSON object.
func (h *Hash) String() string {
	b := []byte{'{'}
	for i, m := range h.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.val...)
	}
	return string(append(b, '}'))
}

// readHash reads the object at the scanner's cursor into h, reusing its
// storage. Keys without escapes share the scanner's buffer, so h must not
// outlive it.
//
// A key that repeats keeps its first place and its last value, as
// encoding/json and Push read repeated members.
func readHash(s *scanner, h *Hash) error {
	h.members = h.members[:0]
	h.idx = nil
	if s.next() != '{' {
		return errNotObject
	}
	if err := s.openObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, esc, ok, err := s.member(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		var k string
		if esc {
			if k, err = s.unquote(key); err != nil {
				return err
			}
		} else {
			k = unsafe.String(unsafe.SliceData(key), len(key))
		}
		s.next()
		val, err := s.skip()
		if err != nil {
			return err
		}
		if i := h.index(k); i >= 0 {
			h.members[i].val = val
			continue
		}
		h.members = append(h.members, hashMember{k, val})
		switch n := len(h.members); {
		case n == hashIndexFrom:
			h.idx = make(map[string]int, 2*hashIndexFrom)
			for i, m := range h.members {
				h.idx[m.key] = i
			}
		case n > hashIndexFrom:
			h.idx[k] = n - 1
		}
	}
}

var errNotObject = errors.New("not an object")

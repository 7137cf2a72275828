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
	// idx indexes members by key once a hash grows past a few members,
	// so that reading, and reshaping, a hostile hash stays linear. The
	// methods keep it up to date.
	idx map[string]int
	// dead counts deleted members, still in members but marked gone.
	dead int
}

// hashIndexFrom is the member count from which a Hash indexes keys.
const hashIndexFrom = 16

type hashMember struct {
	key  string
	val  json.RawMessage
	gone bool // deleted
}

// Len returns the number of members.
func (h *Hash) Len() int { return len(h.members) - h.dead }

// All iterates over the members in order, as key and raw JSON value.
func (h *Hash) All() iter.Seq2[string, json.RawMessage] {
	return func(yield func(string, json.RawMessage) bool) {
		for i := 0; i < len(h.members); i++ {
			// Index, not range: yield may change the hash.
			if m := h.members[i]; !m.gone && !yield(m.key, m.val) {
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
		if h.members[i].key == key && !h.members[i].gone {
			return i
		}
	}
	return -1
}

// add appends a new member key.
func (h *Hash) add(key string, val json.RawMessage) {
	h.members = append(h.members, hashMember{key: key, val: val})
	switch {
	case h.idx != nil:
		h.idx[key] = len(h.members) - 1
	case len(h.members) >= hashIndexFrom:
		h.reindex()
	}
}

// reindex builds idx from the live members.
func (h *Hash) reindex() {
	h.idx = make(map[string]int, max(2*hashIndexFrom, len(h.members)))
	for i, m := range h.members {
		if !m.gone {
			h.idx[m.key] = i
		}
	}
}

// remove deletes member i by marking it, so that deleting every member
// costs linear time, not quadratic. Marked members are never compacted
// away, so that iterating with All while deleting visits every member;
// they go when the hash is read anew.
func (h *Hash) remove(i int) {
	if h.idx != nil {
		delete(h.idx, h.members[i].key)
	}
	h.members[i] = hashMember{gone: true}
	h.dead++
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
	h.add(key, raw)
	return nil
}

// Delete removes member key, if present.
func (h *Hash) Delete(key string) {
	if i := h.index(key); i >= 0 {
		h.remove(i)
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
	if j := h.index(to); j >= 0 {
		h.members[j].val = h.members[i].val
		h.remove(i)
		return true
	}
	h.members[i].key = to
	if h.idx != nil {
		delete(h.idx, from)
		h.idx[to] = i
	}
	return true
}

// String returns the hash as a JSON object.
func (h *Hash) String() string {
	b := []byte{'{'}
	for _, m := range h.members {
		if m.gone {
			continue
		}
		if len(b) > 1 {
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
	h.members, h.idx, h.dead = h.members[:0], nil, 0
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
		h.add(k, val)
	}
}

var errNotObject = errors.New("not an object")

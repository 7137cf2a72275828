package recstoreredis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/recstore/recstore"
)

// MaxMessageBytes caps a message a Replica reads: a longer one is
// reported and dropped (and its sender's records are left to expire). A
// Replica writes at most MaxMessageKeys records per message, far below it.
const MaxMessageBytes = 1 << 20

// MaxMessageKeys caps the records one message names; a Replica splits a
// larger change into several messages.
const MaxMessageKeys = 1000

// maxVersion bounds a message's version: 2^53, what every JSON reader
// holds exactly. A bogus huge version would otherwise silence a record
// for good (the guard would find every later message older).
const maxVersion = 1 << 53

// ErrBadMessage reports a message on the channel that is not one this
// package reads: not JSON, another format version, or fields of the
// wrong type. It is reported (Options.OnError) and dropped.
var ErrBadMessage = errors.New("recstoreredis: bad message")

// A message is what Replicas publish, as JSON, so that a program in any
// language can publish or read them:
//
//	{"v":1,"ver":42,"from":"2f9c…","changed":[{"type":"albums","id":"1"}],
//	 "deleted":[{"type":"albums","id":"2"}],"types":["tracks"]}
//
// v is the format version (1). ver is the message's version (1 to 2^53),
// from one counter in Redis that the publish script increments atomically with the
// PUBLISH, so versions grow in the order messages are published. from is
// the publishing Replica's ID. changed names records whose data changed;
// deleted, records deleted in the backend; types, types whose every record
// may have changed (sent when a Replica lost track of what it changed,
// see Options.QueueLimit). Any field may be left out.
type message struct {
	V       int          `json:"v"`
	Ver     uint64       `json:"ver"`
	From    string       `json:"from,omitempty"`
	Changed []identifier `json:"changed,omitempty"`
	Deleted []identifier `json:"deleted,omitempty"`
	Types   []string     `json:"types,omitempty"`
}

// identifier is a JSON:API resource identifier.
type identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func (i identifier) key() recstore.Key { return recstore.Key{Type: i.Type, ID: i.ID} }

func identifiers(keys []recstore.Key) []identifier {
	if len(keys) == 0 {
		return nil
	}
	out := make([]identifier, len(keys))
	for i, k := range keys {
		out[i] = identifier{k.Type, k.ID}
	}
	return out
}

// tail encodes m without its opening brace, v and ver: the publish script
// writes those, once it knows the version.
func (m *message) tail() ([]byte, error) {
	body, err := json.Marshal(struct {
		From    string       `json:"from,omitempty"`
		Changed []identifier `json:"changed,omitempty"`
		Deleted []identifier `json:"deleted,omitempty"`
		Types   []string     `json:"types,omitempty"`
	}{m.From, m.Changed, m.Deleted, m.Types})
	if err != nil {
		return nil, err
	}
	return body[1:], nil // `"from":…}`, or `}` when empty
}

// decodeMessage reads a message, strictly: what it cannot read is an
// error wrapping ErrBadMessage, never a panic. Records with an empty type
// or id are dropped.
func decodeMessage(b []byte) (*message, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than MaxMessageBytes", ErrBadMessage, len(b))
	}
	var m message
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the message", ErrBadMessage)
	}
	if m.V != 1 {
		return nil, fmt.Errorf("%w: format version %d, not 1", ErrBadMessage, m.V)
	}
	if m.Ver == 0 || m.Ver > maxVersion {
		return nil, fmt.Errorf("%w: version %d, not in 1..2^53", ErrBadMessage, m.Ver)
	}
	valid := func(ids []identifier) []identifier {
		out := ids[:0]
		for _, id := range ids {
			if id.Type != "" && id.ID != "" {
				out = append(out, id)
			}
		}
		return out
	}
	m.Changed, m.Deleted = valid(m.Changed), valid(m.Deleted)
	return &m, nil
}

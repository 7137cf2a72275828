package recstore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/recstore/recstore/inflect"
)

// A Serializer translates a backend's payloads into JSON:API documents the
// Store can push: what Ember Data's serializers do on the way in.
//
// Normalize is given the Store (to look up models and other types'
// serializers, never to push), the model type the payload is about ("" when
// the payload itself says, as for [Store.PushPayload] without a type) and
// the payload's JSON text, which it must not keep or modify once it
// returns. It returns a Document for the Store to push; anything it leaves
// out on purpose, such as records of unknown types, it lists in
// Document.Skipped. A Serializer must be safe for concurrent use and must
// not push into the Store itself.
type Serializer interface {
	Normalize(s *Store, typ string, payload []byte) (*Document, error)
}

// SerializerFunc adapts an ordinary function to the Serializer interface.
type SerializerFunc func(s *Store, typ string, payload []byte) (*Document, error)

// Normalize calls f(s, typ, payload).
func (f SerializerFunc) Normalize(s *Store, typ string, payload []byte) (*Document, error) {
	return f(s, typ, payload)
}

// A RecordNormalizer is a Serializer that can also normalize the hash of a
// single record of type typ, as [Store.Normalize] and the RESTSerializer's
// sideloads need. The Document it returns holds the record as its data and
// any records embedded in it as included.
type RecordNormalizer interface {
	Serializer
	NormalizeRecord(s *Store, typ string, hash []byte) (*Document, error)
}

var (
	_ RecordNormalizer = (*JSONSerializer)(nil)
	_ RecordNormalizer = (*RESTSerializer)(nil)
	_ RecordNormalizer = (*JSONAPISerializer)(nil)
)

// SerializerFor returns the serializer of model type typ: the one given
// at its registration in ModelOptions.Serializer, else the Store's default
// from Options.Serializer, else a JSONAPISerializer. For an unknown or
// empty typ it returns the Store's default.
func (s *Store) SerializerFor(typ string) Serializer {
	if t := s.lookupType(typ); t != nil && t.serializer != nil {
		return t.serializer
	}
	if s.opts.Serializer != nil {
		return s.opts.Serializer
	}
	return defaultSerializer
}

var defaultSerializer = &JSONAPISerializer{}

// PushPayload normalizes payload with the serializer of type typ (see
// [Store.SerializerFor]) and pushes the result, all or nothing, as
// [Store.Push] does. typ may be "" when the payload names its types, as a
// REST payload's root keys or a JSON:API document's resources do.
//
// payload takes the forms Push takes: JSON text, an io.Reader, or a Go
// value such as a map[string]any literal, which is encoded first. Unlike
// Ember Data's, PushPayload returns the keys of every record it pushed:
// the primary ones first, in payload order (as Push returns them), then the
// sideloaded and embedded ones, each once. What the serializer skipped or
// coerced with a loss goes, once the push is done, to Options.OnReport
// (or the Logger) as Reports, merged by reason (see [Report]).
//
// An error is a *DocumentError (matching ErrInvalidDocument) for a payload
// the serializer or the Store rejects, or wraps ErrUnknownType for an
// unknown typ; either way the Store is unchanged.
func (s *Store) PushPayload(typ string, payload any) ([]Key, error) {
	var keys []Key
	err := s.pushPayload(typ, payload, nil, nil, func(data []Key, doc *Document) { keys = payloadKeys(doc) })
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// pushPayload normalizes and pushes payload, as PushPayload does. only,
// if not nil, is the one type the primary data may have. check, if not
// nil, may refuse the normalized Document before anything is pushed.
// read, if not nil, is called under the push's lock with the primary keys
// and the pushed Document, as push calls its read.
func (s *Store) pushPayload(typ string, payload any, only *table, check func(*Document) error, read func(data []Key, doc *Document)) error {
	return s.pushPayloadWith(typ, payload, only, check, nil, read)
}

// pushPayloadWith is pushPayload with a pre step for the push's commit
// (see push).
func (s *Store) pushPayloadWith(typ string, payload any, only *table, check func(*Document) error, pre func(*commit) error, read func(data []Key, doc *Document)) error {
	doc, err := s.normalize(typ, payload, false)
	if err != nil {
		return err
	}
	defer func() {
		if doc.norm != nil {
			doc.norm.release()
		}
	}()
	if check != nil {
		if err := check(doc); err != nil {
			return err
		}
	}
	var after func([]Key)
	if read != nil {
		after = func(data []Key) { read(data, doc) }
	}
	_, err = s.push(doc, only, pre, after)
	var de *DocumentError
	if err != nil && doc.norm != nil && errors.As(err, &de) {
		// The push points into the Document; the caller wrote the payload.
		de.Pointer = doc.norm.payloadPointer(doc, de.Pointer)
	}
	if err == nil {
		s.deliver(docReports(doc)...)
	}
	return err
}

// Normalize translates the hash of one record of type typ into a Document,
// with the serializer of typ, without pushing it: Ember Data's
// store.normalize. The serializer must be a [RecordNormalizer]. Pushing the
// result with [Store.Push] is a partial update, as the hash's absent
// members are absent from the Document.
func (s *Store) Normalize(typ string, hash any) (*Document, error) {
	return s.normalize(typ, hash, true)
}

func (s *Store) normalize(typ string, payload any, record bool) (*Document, error) {
	if typ != "" && s.lookupType(typ) == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	if record && typ == "" {
		return nil, fmt.Errorf("%w: Normalize needs a model type", ErrUnknownType)
	}
	buf, err := s.documentBytes(payload)
	if err != nil {
		return nil, err
	}
	// The Document a serializer returns may share memory with its payload
	// (the caller's bytes, or a string's), and Normalize's caller may keep
	// it: give it its own copy.
	if record {
		buf = bytes.Clone(buf)
	}
	ser := s.SerializerFor(typ)
	var doc *Document
	if record {
		rn, ok := ser.(RecordNormalizer)
		if !ok {
			return nil, fmt.Errorf("recstore: the serializer of %q (%T) cannot normalize single records", typ, ser)
		}
		doc, err = rn.NormalizeRecord(s, typ, buf)
	} else if pn := builtinPushNormalizer(ser); pn != nil {
		doc, err = pn.normalizeForPush(s, typ, buf)
	} else {
		doc, err = ser.Normalize(s, typ, buf)
	}
	if err != nil {
		if duplicateAt(err) >= 0 {
			// Point at the repeated member in the payload as sent.
			if de := checkUnique(buf); de != nil {
				return nil, de
			}
		}
		if !errors.Is(err, ErrInvalidDocument) {
			err = &DocumentError{Err: err}
		}
		return nil, err
	}
	if doc == nil {
		return nil, &DocumentError{Err: fmt.Errorf("serializer %T returned no document", ser)}
	}
	if record {
		s.deliver(docReports(doc)...)
	}
	return doc, nil
}

// pushNormalizer is implemented by the built-in serializers, whose
// Documents for PushPayload keep attributes raw.
type pushNormalizer interface {
	normalizeForPush(s *Store, typ string, payload []byte) (*Document, error)
}

// builtinPushNormalizer returns ser as a pushNormalizer when it is one of
// the built-in serializers itself, else nil. A type that embeds one also
// has normalizeForPush, promoted, but calling it would skip a Normalize
// of its own: such a type is normalized through its Normalize.
func builtinPushNormalizer(ser Serializer) pushNormalizer {
	switch ser := ser.(type) {
	case *JSONSerializer:
		return ser
	case *RESTSerializer:
		return ser
	case *JSONAPISerializer:
		return ser
	}
	return nil
}

// payloadKeys lists the keys of doc's data, in order, as Push returns
// them, then those of its included resources, each once and leaving out
// any already in data (which JSON:API forbids anyway). Only included keys
// go in a set, so a payload with no sideloads needs none.
func payloadKeys(doc *Document) []Key {
	keys := make([]Key, 0, len(doc.Data)+len(doc.Included))
	for _, r := range doc.Data {
		keys = append(keys, Key{r.Type, r.ID})
	}
	if len(doc.Included) == 0 {
		return keys
	}
	incl := make(map[Key]bool, len(doc.Included)) // true: already listed
	for _, r := range doc.Included {
		incl[Key{r.Type, r.ID}] = false
	}
	for _, k := range keys {
		if _, ok := incl[k]; ok {
			incl[k] = true
		}
	}
	for _, r := range doc.Included {
		k := Key{r.Type, r.ID}
		if !incl[k] {
			incl[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// PushPayload pushes payload as [Store.PushPayload] does with this model's
// type, and returns the primary records, in payload order, as [Model.Push]
// does: sideloaded and embedded records are pushed but not returned. As
// with Model.Push, primary records of another type fail the push.
func (m *Model[T]) PushPayload(payload any) ([]T, error) {
	var out []T
	err := m.s.pushPayload(m.t.name, payload, m.t, nil, func(data []Key, _ *Document) { out = m.values(data) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inflector is what the built-in serializers singularize with.
var inflector = inflect.English()

// ModelNameFromPayloadKey is the default mapping from a payload's root
// key or resource type to a model type, as in Ember Data: dasherized and
// singular, so "albums" → "album", "people" → "person", "blog_posts" →
// "blog-post". It knows no Store's models or words: serializers use
// [Store.ModelNameFromPayloadKey], which does.
func ModelNameFromPayloadKey(key string) string {
	return inflect.Dasherize(inflector.Singular(key))
}

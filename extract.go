package recstore

import "strings"

// BaseErrors is the key ExtractErrors gives messages about a record as a
// whole (a pointer to "/data") rather than one of its members.
const BaseErrors = "base"

// An ErrorExtractor maps a backend's JSON:API error objects about a
// record of type typ to messages by model attribute or relationship name,
// undoing the serializer's key mapping: what Ember Data's extractErrors
// does. The built-in serializers are ErrorExtractors.
type ErrorExtractor interface {
	ExtractErrors(s *Store, typ string, errs []ErrorObject) map[string][]string
}

var (
	_ ErrorExtractor = (*JSONSerializer)(nil)
	_ ErrorExtractor = (*RESTSerializer)(nil)
	_ ErrorExtractor = (*JSONAPISerializer)(nil)
)

// ExtractErrors maps errs, the error objects of a rejected request about
// a record of type typ, to messages by attribute or relationship name
// with the type's serializer (see [Store.SerializerFor]):
// "/data/attributes/le_title" becomes "title" when the serializer writes
// title as le_title, "/data" becomes BaseErrors. A message is the error's
// detail, or its title when it has none, or "is invalid" when it has
// neither. Errors with no source pointer,
// or one outside /data, are left out; member keys that map to no
// attribute or relationship are kept as they are. If the serializer is
// not an ErrorExtractor, keys are taken as they are.
func (s *Store) ExtractErrors(typ string, errs []ErrorObject) map[string][]string {
	if ex, ok := s.SerializerFor(typ).(ErrorExtractor); ok {
		return ex.ExtractErrors(s, typ, errs)
	}
	return extractErrors(nil, nil, errs)
}

// ExtractErrors maps errs through the serializer's key mapping, as
// [Store.ExtractErrors] describes.
func (j *JSONSerializer) ExtractErrors(s *Store, typ string, errs []ErrorObject) map[string][]string {
	t := s.lookupType(typ)
	if t == nil {
		return extractErrors(nil, nil, errs)
	}
	return extractErrors(t, j.keysFor(t), errs)
}

// ExtractErrors maps errs through the serializer's key mapping, as
// [Store.ExtractErrors] describes.
func (j *JSONAPISerializer) ExtractErrors(s *Store, typ string, errs []ErrorObject) map[string][]string {
	t := s.lookupType(typ)
	if t == nil {
		return extractErrors(nil, nil, errs)
	}
	return extractErrors(t, j.keysFor(t), errs)
}

func extractErrors(t *table, keys *memberKeys, errs []ErrorObject) map[string][]string {
	out := map[string][]string{}
	for _, e := range errs {
		if e.Source == nil {
			continue
		}
		p := strings.TrimPrefix(e.Source.Pointer, "/")
		rest, ok := strings.CutPrefix(p, "data")
		if !ok || rest != "" && rest[0] != '/' {
			continue
		}
		key := BaseErrors
		if member, ok := strings.CutPrefix(rest, "/attributes/"); ok && member != "" {
			key = memberName(t, keys, unescapePointer(member), false)
		} else if member, ok := strings.CutPrefix(rest, "/relationships/"); ok && member != "" {
			member, _, _ = strings.Cut(member, "/") // "/relationships/author/data" is about author
			key = memberName(t, keys, unescapePointer(member), true)
		}
		msg := e.Detail
		if msg == "" {
			msg = e.Title
		}
		if msg == "" {
			msg = "is invalid" // the member is named, but not why
		}
		out[key] = append(out[key], msg)
	}
	return out
}

// memberName maps a payload key back to the attribute (or, failing that,
// relationship) of t it stands for, or returns it unchanged.
func memberName(t *table, keys *memberKeys, payloadKey string, rel bool) string {
	if t == nil {
		return payloadKey
	}
	find := func(list []string, name func(int) string) (string, bool) {
		for i, k := range list {
			if k == payloadKey {
				return name(i), true
			}
		}
		return "", false
	}
	attr := func(i int) string { return t.attrs[i].name }
	relName := func(i int) string { return t.rels[i].name }
	first, second := keys.attrs, keys.rels
	fn, sn := attr, relName
	if rel {
		first, second, fn, sn = second, first, sn, fn
	}
	if n, ok := find(first, fn); ok {
		return n
	}
	if n, ok := find(second, sn); ok {
		return n
	}
	return payloadKey
}

// unescapePointer undoes JSON pointer escaping in one reference token.
func unescapePointer(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

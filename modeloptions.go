package recstore

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// tagKeys are the struct tag keys Register reads; ModelOptions.Tags may
// give only these.
var tagKeys = []string{"jsonapi", "recstore"}

// optionTags checks opts.Tags against rt and returns, per Go field name,
// the tag buildSchema reads for it: the field's own jsonapi and recstore
// keys with those the options give merged over them, key by key. A key
// given an empty value is removed. The names are checked in sorted order,
// so that of several faults Register always reports the same one.
func optionTags(rt reflect.Type, opts *ModelOptions) (map[string]reflect.StructTag, error) {
	if opts == nil || len(opts.Tags) == 0 {
		return nil, nil
	}
	out := make(map[string]reflect.StructTag, len(opts.Tags))
	for _, name := range slices.Sorted(maps.Keys(opts.Tags)) {
		tag := opts.Tags[name]
		bad := func(msg string) error {
			return &ModelError{GoType: rt, Field: name, Msg: "ModelOptions.Tags: " + msg}
		}
		f, ok := rt.FieldByName(name)
		if !ok {
			return nil, bad("the struct has no field " + strconv.Quote(name))
		}
		if len(f.Index) != 1 {
			// buildSchema reads the struct's own fields only: a field of
			// an embedded struct is not a member, whatever its tag.
			emb := rt.Field(f.Index[0])
			fix := "declare " + name + " in the struct"
			if emb.IsExported() {
				fix = "tag " + emb.Name + " (one attribute holding the whole struct) or " + fix
			}
			return nil, bad(strconv.Quote(name) + " is promoted from the embedded field " + emb.Name +
				": Register reads the struct's own fields only, so " + fix)
		}
		pairs, err := parseTag(tag)
		if err != nil {
			return nil, bad(err.Error())
		}
		var b strings.Builder
		for _, key := range tagKeys {
			v, ok := pairs[key]
			if !ok {
				v, ok = f.Tag.Lookup(key)
			}
			if !ok || v == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(key + ":" + strconv.Quote(v))
		}
		out[name] = reflect.StructTag(b.String())
	}
	return out, nil
}

// parseTag reads a struct tag in the conventional format, `key:"value"`
// pairs separated by spaces, as reflect.StructTag.Lookup does, except that
// it reports malformed input, a repeated key, and keys other than
// tagKeys, which Register would never read.
func parseTag(tag string) (map[string]string, error) {
	pairs := map[string]string{}
	for {
		tag = strings.TrimLeft(tag, " ")
		if tag == "" {
			return pairs, nil
		}
		i := 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			return nil, errors.New("malformed tag " + strconv.Quote(tag) + `: want key:"value" pairs`)
		}
		key := tag[:i]
		tag = tag[i+1:]
		i = 1
		for i < len(tag) && tag[i] != '"' {
			if tag[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(tag) {
			return nil, errors.New("malformed tag: the value of " + strconv.Quote(key) + " is not closed")
		}
		v, err := strconv.Unquote(tag[:i+1])
		if err != nil {
			return nil, errors.New("malformed tag: the value of " + strconv.Quote(key) + " is not a quoted string")
		}
		tag = tag[i+1:]
		if !slices.Contains(tagKeys, key) {
			return nil, errors.New("tag key " + strconv.Quote(key) + " means nothing to Register, which reads jsonapi and recstore")
		}
		if _, dup := pairs[key]; dup {
			return nil, errors.New("tag key " + strconv.Quote(key) + " given twice")
		}
		pairs[key] = v
	}
}

// tag reports whether opts.Tags gives the field name a tag.
func (opts *ModelOptions) tag(name string) (string, bool) {
	if opts == nil || name == "" {
		return "", false
	}
	t, ok := opts.Tags[name]
	return t, ok
}

// inverseConflict describes how opts.Inverses, giving r the inverse inv,
// contradicts the inverse opts.Tags gives r, or is "". Both are options, so
// neither may quietly win; a field's own tag is what Inverses overrides.
func inverseConflict(opts *ModelOptions, r *relField, inv string) string {
	t, ok := opts.tag(r.goName)
	if !ok || r.inverse == "" || r.inverse == inv {
		return ""
	}
	if _, has := reflect.StructTag(t).Lookup("recstore"); !has {
		return ""
	}
	return "ModelOptions.Inverses gives " + strconv.Quote(r.name) + " the inverse " + strconv.Quote(inv) +
		", and ModelOptions.Tags " + strconv.Quote(r.inverse)
}

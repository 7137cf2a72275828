package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// A schema is what Register learns about a model's Go type, once: where
// each member lives in the struct and how to decode, copy and clone it. All
// per-record work is driven from here, so no reflection happens on the hot
// paths except for JSON-valued attributes (slices, maps, nested structs,
// json.Unmarshaler types).
type schema struct {
	goType reflect.Type
	name   string // JSON:API type, from the primary tag

	id      primaryField
	attrs   []attrField
	attrIdx map[string]int
	rels    []relField
	relIdx  map[string]int

	clones []*attrField // attributes holding memory that Peek must deep-copy
}

type primaryField struct {
	goName string
	off    uintptr
	kind   reflect.Kind
	typ    reflect.Type
}

// attrField is one `jsonapi:"attr,..."` field.
type attrField struct {
	name   string
	goName string
	off    uintptr
	typ    reflect.Type

	// decode reads one JSON value at the scanner's cursor into the field at
	// p. A JSON null stores the zero value.
	decode func(s *scanner, p unsafe.Pointer) error
	// set copies the field from src to dst (whole structs), with write
	// barriers where the field holds pointers.
	set func(dst, src unsafe.Pointer)
	// clone replaces the field at p with a deep copy; nil for fields that
	// hold no mutable shared memory.
	clone func(p unsafe.Pointer)
	// equal reports whether the fields at two addresses hold the same
	// value, for dirty tracking.
	equal func(x, y unsafe.Pointer) bool

	// transform names the custom transform serializers apply, from the
	// field's `recstore:"transform=NAME"` tag.
	transform string
	// coerce is the Ember Data coercion serializers apply when there is
	// no custom transform, worked out once from the field's type.
	coerce coercion
	// nullable says the field is a pointer: a value that coerces to
	// nothing stores nil rather than the zero value.
	nullable bool
}

// A coercion is the built-in transform an attribute's Go type selects.
type coercion uint8

const (
	coerceNone   coercion = iota // JSON values, slices, maps, structs: as sent
	coerceRaw                    // json.Unmarshaler: as sent, its own decoder reads it
	coerceDate                   // time.Time
	coerceString                 // string kinds
	coerceBool                   // bool
	coerceInt                    // int and uint kinds
	coerceFloat                  // float kinds
)

func coercionOf(typ reflect.Type) (c coercion, nullable bool) {
	if typ.Kind() == reflect.Pointer {
		typ, nullable = typ.Elem(), true
	}
	switch {
	case typ == timeType:
		return coerceDate, nullable
	case reflect.PointerTo(typ).Implements(jsonUnmarshalerType):
		return coerceRaw, nullable
	case typ.Kind() == reflect.String:
		return coerceString, nullable
	case typ.Kind() == reflect.Bool:
		return coerceBool, nullable
	case isIntKind(typ.Kind()) || isUintKind(typ.Kind()):
		return coerceInt, nullable
	case typ.Kind() == reflect.Float32 || typ.Kind() == reflect.Float64:
		return coerceFloat, nullable
	}
	return coerceNone, nullable
}

// relField is one `jsonapi:"relation,..."` field.
type relField struct {
	name   string
	goName string
	off    uintptr
	ftype  reflect.Type // the field's Go type
	many   bool
	// keyed fields are Key or []Key: they hold identifiers only and accept
	// any registered type. Other fields are *S or []*S for a model S, or
	// of interface type (poly).
	keyed bool
	elem  reflect.Type // S for *S and []*S fields; nil for the others

	// target is the model registered for elem, once there is one. It is
	// read by Peek without the Store's lock, hence atomic.
	target *atomic.Pointer[table]

	// inverse names the relationship on the related type that mirrors this
	// one, or is empty. Guarded by Store.mu.
	inverse string

	// poly is set for a relation of interface type, which holds records
	// of every model implementing it; see polymorphic.go.
	poly *polyRel
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	stringType      = reflect.TypeFor[string]()
	keyType         = reflect.TypeFor[Key]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

func buildSchema(rt reflect.Type, opts *ModelOptions) (*schema, error) {
	bad := func(field, format string, args ...any) error {
		msg := format
		if len(args) > 0 {
			msg = fmt.Sprintf(format, args...)
		}
		if _, ok := opts.tag(field); ok {
			msg += " (the tag comes from ModelOptions.Tags)"
		}
		return &ModelError{GoType: rt, Field: field, Msg: msg}
	}
	if rt.Kind() != reflect.Struct {
		return nil, bad("", "a model must be a struct type, not %s", rt.Kind())
	}
	tags, err := optionTags(rt, opts)
	if err != nil {
		return nil, err
	}
	sc := &schema{goType: rt, attrIdx: map[string]int{}, relIdx: map[string]int{}}
	havePrimary := false
	for i := range rt.NumField() {
		f := rt.Field(i)
		if t, ok := tags[f.Name]; ok {
			f.Tag = t
		}
		tag, ok := f.Tag.Lookup("jsonapi")
		if !ok {
			continue
		}
		if !f.IsExported() {
			return nil, bad(f.Name, "jsonapi tag on an unexported field")
		}
		args := strings.Split(tag, ",")
		if len(args) < 2 || args[1] == "" {
			if args[0] == "client-id" {
				continue // google/jsonapi's client-generated id: not stored
			}
			return nil, bad(f.Name, "tag %q needs a name after the annotation", tag)
		}
		name := args[1]
		switch args[0] {
		case "primary":
			if havePrimary {
				return nil, bad(f.Name, "a second primary field (the first is %s)", sc.id.goName)
			}
			havePrimary = true
			k := f.Type.Kind()
			if k != reflect.String && !isIntKind(k) && !isUintKind(k) {
				return nil, bad(f.Name, "the primary field must be a string or an integer, not %s", f.Type)
			}
			sc.name = name
			sc.id = primaryField{goName: f.Name, off: f.Offset, kind: k, typ: f.Type}
		case "client-id":
			continue
		case "attr":
			if err := checkMemberName(sc, name); err != nil {
				return nil, bad(f.Name, "%v", err)
			}
			a, err := newAttrField(f, args[2:])
			if err != nil {
				return nil, bad(f.Name, "%v", err)
			}
			if tag, ok := f.Tag.Lookup("recstore"); ok {
				v, found := strings.CutPrefix(tag, "transform=")
				if !found || v == "" {
					return nil, bad(f.Name, "recstore tag %q: want transform=NAME", tag)
				}
				a.transform = v
			}
			sc.attrIdx[name] = len(sc.attrs)
			sc.attrs = append(sc.attrs, a)
		case "relation":
			if err := checkMemberName(sc, name); err != nil {
				return nil, bad(f.Name, "%v", err)
			}
			r, err := newRelField(f, args[2:])
			if err != nil {
				return nil, bad(f.Name, "%v", err)
			}
			if tag, ok := f.Tag.Lookup("recstore"); ok {
				v, found := strings.CutPrefix(tag, "inverse=")
				if !found || v == "" {
					return nil, bad(f.Name, "recstore tag %q: want inverse=NAME", tag)
				}
				r.inverse = v
			}
			sc.relIdx[name] = len(sc.rels)
			sc.rels = append(sc.rels, r)
		default:
			return nil, bad(f.Name, "unknown jsonapi annotation %q", args[0])
		}
	}
	if !havePrimary {
		return nil, bad("", "no field is tagged `jsonapi:\"primary,TYPE\"`")
	}
	if opts != nil {
		// In name order, so that with several faults Register reports the
		// same one every run.
		for _, rel := range slices.Sorted(maps.Keys(opts.Inverses)) {
			inv := opts.Inverses[rel]
			i, ok := sc.relIdx[rel]
			if !ok {
				return nil, bad("", "ModelOptions.Inverses names %q, which is not a relationship", rel)
			}
			if inv == "" {
				return nil, bad(sc.rels[i].goName, "ModelOptions.Inverses gives an empty inverse for %q", rel)
			}
			if err := inverseConflict(opts, &sc.rels[i], inv); err != "" {
				return nil, bad(sc.rels[i].goName, "%s", err)
			}
			sc.rels[i].inverse = inv
		}
	}
	for i := range sc.attrs {
		if sc.attrs[i].clone != nil {
			sc.clones = append(sc.clones, &sc.attrs[i])
		}
	}
	return sc, nil
}

func checkMemberName(sc *schema, name string) error {
	if name == "id" || name == "type" {
		return errors.New(`JSON:API reserves the member names "id" and "type"`)
	}
	if _, dup := sc.attrIdx[name]; dup {
		return errors.New("duplicate member name " + strconv.Quote(name))
	}
	if _, dup := sc.relIdx[name]; dup {
		return errors.New("duplicate member name " + strconv.Quote(name))
	}
	return nil
}

func newRelField(f reflect.StructField, opts []string) (relField, error) {
	for _, o := range opts {
		if o != "omitempty" {
			return relField{}, errors.New("unknown relation option " + strconv.Quote(o))
		}
	}
	r := relField{goName: f.Name, off: f.Offset, ftype: f.Type, target: new(atomic.Pointer[table])}
	r.name = strings.Split(f.Tag.Get("jsonapi"), ",")[1]
	t := f.Type
	if t.Kind() == reflect.Slice {
		r.many = true
		t = t.Elem()
	}
	switch {
	case t == keyType:
		r.keyed = true
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		r.elem = t.Elem()
	case t.Kind() == reflect.Interface:
		var err error
		if r.poly, err = newPolyRel(t); err != nil {
			return relField{}, err
		}
	default:
		return relField{}, errors.New("a relation must be *S, []*S, I or []I (I an interface), Key or []Key, not " + f.Type.String())
	}
	return r, nil
}

func newAttrField(f reflect.StructField, opts []string) (attrField, error) {
	a := attrField{goName: f.Name, off: f.Offset, typ: f.Type}
	a.name = strings.Split(f.Tag.Get("jsonapi"), ",")[1]
	for _, o := range opts {
		switch o {
		case "omitempty", "iso8601", "rfc3339":
			// Output options: every time format is accepted on input.
		default:
			return a, errors.New("unknown attr option " + strconv.Quote(o))
		}
	}
	dec, err := decoderFor(f.Type)
	if err != nil {
		return a, err
	}
	if holds, rat := bigKinds(f.Type); holds {
		dec = guardBig(dec, rat)
	}
	if unmarshalsAny(f.Type) {
		dec = guardShared(dec, f.Type)
	}
	a.decode = dec
	a.coerce, a.nullable = coercionOf(f.Type)
	a.set = setterFor(f.Type)
	a.equal = equalFor(f.Type)
	if a.clone, err = clonerFor(f.Type); err != nil {
		return a, err
	}
	return a, nil
}

func isIntKind(k reflect.Kind) bool  { return k >= reflect.Int && k <= reflect.Int64 }
func isUintKind(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uintptr }

// kindError is the cause of an AttributeError for a JSON value of the
// wrong kind; the message is built by the caller, which knows the value.
type kindError struct{ want string }

func (e *kindError) Error() string { return "want " + e.want }

// decoderFor returns the decoder for one attribute's Go type, or an error
// for types that cannot hold a JSON value.
func decoderFor(t reflect.Type) (func(*scanner, unsafe.Pointer) error, error) {
	switch t {
	case anyType:
		return decodeAny, nil
	case anySliceType:
		return decodeAnySlice, nil
	case anyMapType:
		return decodeAnyMap, nil
	}
	if t == timeType {
		return decodeTime, nil
	}
	if t.Kind() == reflect.Pointer && t.Elem() == timeType {
		return decodePtr(t.Elem(), decodeTime), nil
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return decodeWithJSON(t), nil
	}
	switch k := t.Kind(); {
	case k == reflect.String:
		return decodeString, nil
	case k == reflect.Bool:
		return decodeBool, nil
	case isIntKind(k):
		return decodeInt(t.Size()), nil
	case isUintKind(k):
		return decodeUint(t.Size()), nil
	case k == reflect.Float32:
		return decodeFloat32, nil
	case k == reflect.Float64:
		return decodeFloat64, nil
	case k == reflect.Pointer:
		if err := checkJSONType(t.Elem()); err != nil {
			return nil, err
		}
		if d, err := decoderFor(t.Elem()); err == nil && isScalar(t.Elem()) {
			return decodePtr(t.Elem(), d), nil
		}
		return decodeWithJSON(t), nil
	}
	if err := checkJSONType(t); err != nil {
		return nil, err
	}
	return decodeWithJSON(t), nil
}

func isScalar(t reflect.Type) bool {
	k := t.Kind()
	return k == reflect.String || k == reflect.Bool || isIntKind(k) || isUintKind(k) ||
		k == reflect.Float32 || k == reflect.Float64
}

// checkJSONType rejects types encoding/json cannot decode into.
func checkJSONType(t reflect.Type) error {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil
		}
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			return errors.New("unsupported attribute type " + t.String())
		case reflect.Interface:
			if t.NumMethod() != 0 {
				return errors.New("unsupported attribute type " + t.String() + " (only empty interfaces hold JSON values)")
			}
		case reflect.Pointer, reflect.Slice, reflect.Array:
			return walk(t.Elem())
		case reflect.Map:
			if k := t.Key().Kind(); k != reflect.String && !isIntKind(k) && !isUintKind(k) &&
				!reflect.PointerTo(t.Key()).Implements(reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()) {
				return errors.New("unsupported map key type in " + t.String())
			}
			return walk(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				if f := t.Field(i); f.IsExported() {
					if err := walk(f.Type); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return walk(t)
}

func decodeString(s *scanner, p unsafe.Pointer) error {
	switch s.next() {
	case '"':
		v, err := s.stringValue()
		*(*string)(p) = v
		return err
	case 'n':
		*(*string)(p) = ""
		return s.literal("null")
	}
	return &kindError{"a string"}
}

func decodeBool(s *scanner, p unsafe.Pointer) error {
	switch s.next() {
	case 't':
		*(*bool)(p) = true
		return s.literal("true")
	case 'f':
		*(*bool)(p) = false
		return s.literal("false")
	case 'n':
		*(*bool)(p) = false
		return s.literal("null")
	}
	return &kindError{"a boolean"}
}

// numberToken reads a number for a numeric field; ok is false after a null.
func numberToken(s *scanner, want string) (num []byte, ok bool, err error) {
	switch c := s.next(); {
	case c == 'n':
		return nil, false, s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		num, err = s.number()
		return num, err == nil, err
	}
	return nil, false, &kindError{want}
}

var errNotInteger = errors.New("not an integer")

// parseUint parses the digits of a JSON integer without allocating.
func parseUint(b []byte) (v uint64, err error) {
	if len(b) == 0 {
		return 0, errNotInteger
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errNotInteger
		}
		if v > (math.MaxUint64-9)/10 {
			// Slow path near the limit.
			return strconv.ParseUint(string(b), 10, 64)
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}

func decodeInt(size uintptr) func(*scanner, unsafe.Pointer) error {
	bits := uint(size * 8)
	return func(s *scanner, p unsafe.Pointer) error {
		num, ok, err := numberToken(s, "an integer")
		var v int64
		if ok {
			neg := num[0] == '-'
			digits := num
			if neg {
				digits = num[1:]
			}
			u, perr := parseUint(digits)
			if perr != nil {
				if errors.Is(perr, strconv.ErrRange) {
					return errors.New("integer overflows " + strconv.Itoa(int(bits)) + " bits")
				}
				return perr
			}
			limit := uint64(1) << (bits - 1)
			if (!neg && u >= limit) || (neg && u > limit) {
				return errors.New("integer overflows " + strconv.Itoa(int(bits)) + " bits")
			}
			v = int64(u)
			if neg {
				v = -v
			}
		} else if err != nil {
			return err
		}
		switch size {
		case 1:
			*(*int8)(p) = int8(v)
		case 2:
			*(*int16)(p) = int16(v)
		case 4:
			*(*int32)(p) = int32(v)
		default:
			*(*int64)(p) = v
		}
		return nil
	}
}

func decodeUint(size uintptr) func(*scanner, unsafe.Pointer) error {
	bits := uint(size * 8)
	return func(s *scanner, p unsafe.Pointer) error {
		num, ok, err := numberToken(s, "an unsigned integer")
		var v uint64
		if ok {
			if num[0] == '-' {
				return errors.New("negative value for an unsigned field")
			}
			u, perr := parseUint(num)
			if perr != nil {
				if errors.Is(perr, strconv.ErrRange) {
					return errors.New("integer overflows " + strconv.Itoa(int(bits)) + " bits")
				}
				return perr
			}
			if bits < 64 && u >= uint64(1)<<bits {
				return errors.New("integer overflows " + strconv.Itoa(int(bits)) + " bits")
			}
			v = u
		} else if err != nil {
			return err
		}
		switch size {
		case 1:
			*(*uint8)(p) = uint8(v)
		case 2:
			*(*uint16)(p) = uint16(v)
		case 4:
			*(*uint32)(p) = uint32(v)
		default:
			*(*uint64)(p) = v
		}
		return nil
	}
}

func decodeFloat64(s *scanner, p unsafe.Pointer) error {
	num, ok, err := numberToken(s, "a number")
	if !ok {
		*(*float64)(p) = 0
		return err
	}
	v, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return errors.New("number out of range for float64")
	}
	*(*float64)(p) = v
	return nil
}

func decodeFloat32(s *scanner, p unsafe.Pointer) error {
	num, ok, err := numberToken(s, "a number")
	if !ok {
		*(*float32)(p) = 0
		return err
	}
	v, err := strconv.ParseFloat(string(num), 32)
	if err != nil {
		return errors.New("number out of range for float32")
	}
	*(*float32)(p) = float32(v)
	return nil
}

// decodeTime accepts an RFC 3339 string (which covers google/jsonapi's
// iso8601 and rfc3339 forms) or a number of Unix seconds (google/jsonapi's
// default for untagged time fields).
func decodeTime(s *scanner, p unsafe.Pointer) error {
	switch c := s.next(); {
	case c == 'n':
		*(*time.Time)(p) = time.Time{}
		return s.literal("null")
	case c == '"':
		str, err := s.stringValue()
		if err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return errors.New("not an RFC 3339 time")
		}
		*(*time.Time)(p) = t
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		num, err := s.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return errors.New("not a whole number of Unix seconds")
		}
		*(*time.Time)(p) = time.Unix(int64(f), 0)
		return nil
	}
	return &kindError{"an RFC 3339 string or Unix seconds"}
}

// decodePtr decodes a nullable scalar: null leaves a nil pointer.
func decodePtr(elem reflect.Type, dec func(*scanner, unsafe.Pointer) error) func(*scanner, unsafe.Pointer) error {
	return func(s *scanner, p unsafe.Pointer) error {
		if s.next() == 'n' {
			*(*unsafe.Pointer)(p) = nil
			return s.literal("null")
		}
		v := reflect.New(elem).UnsafePointer()
		if err := dec(s, v); err != nil {
			return err
		}
		*(*unsafe.Pointer)(p) = v
		return nil
	}
}

// decodeWithJSON hands the raw value to encoding/json, for slices, maps,
// nested structs and types with their own UnmarshalJSON. The scanner has
// already checked its syntax and depth.
func decodeWithJSON(t reflect.Type) func(*scanner, unsafe.Pointer) error {
	return func(s *scanner, p unsafe.Pointer) error {
		raw, err := s.skip()
		if err != nil {
			return err
		}
		v := reflect.NewAt(t, p)
		v.Elem().SetZero()
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return errors.New("want " + te.Type.String() + ", got JSON " + te.Value)
			}
			return err
		}
		if t.Kind() == reflect.Slice {
			// encoding/json grows slices by appending; the Store keeps
			// the value for good, so trim the spare capacity (up to a
			// quarter of a large array) with one shallow copy.
			if e := v.Elem(); e.Cap() > e.Len() {
				n := reflect.MakeSlice(t, e.Len(), e.Len())
				reflect.Copy(n, e)
				e.Set(n)
			}
		}
		return nil
	}
}

// setterFor returns a typed copy of one field.
func setterFor(t reflect.Type) func(dst, src unsafe.Pointer) {
	switch {
	case t.Kind() == reflect.String:
		return func(dst, src unsafe.Pointer) { *(*string)(dst) = *(*string)(src) }
	case !hasPointers(t):
		switch t.Size() {
		case 1:
			return func(dst, src unsafe.Pointer) { *(*uint8)(dst) = *(*uint8)(src) }
		case 2:
			return func(dst, src unsafe.Pointer) { *(*uint16)(dst) = *(*uint16)(src) }
		case 4:
			return func(dst, src unsafe.Pointer) { *(*uint32)(dst) = *(*uint32)(src) }
		case 8:
			return func(dst, src unsafe.Pointer) { *(*uint64)(dst) = *(*uint64)(src) }
		}
	case t.Kind() == reflect.Pointer:
		return func(dst, src unsafe.Pointer) { *(*unsafe.Pointer)(dst) = *(*unsafe.Pointer)(src) }
	}
	return func(dst, src unsafe.Pointer) {
		reflect.NewAt(t, dst).Elem().Set(reflect.NewAt(t, src).Elem())
	}
}

// hasPointers reports whether values of t hold pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface,
		reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// decodeAny, decodeAnySlice and decodeAnyMap decode JSON values into any,
// []any and map[string]any as encoding/json would (objects as
// map[string]any, arrays as []any, numbers as float64), but straight from
// the scanner with every slice and map sized exactly: encoding/json grows
// them by appending, and the spare capacity stays in the Store.
func decodeAny(s *scanner, p unsafe.Pointer) error {
	v, err := decodeJSONValue(s)
	if err != nil {
		return err
	}
	*(*any)(p) = v
	return nil
}

func decodeAnySlice(s *scanner, p unsafe.Pointer) error {
	switch s.next() {
	case 'n':
		*(*[]any)(p) = nil
		return s.literal("null")
	case '[':
		v, err := decodeJSONValue(s)
		if err != nil {
			return err
		}
		*(*[]any)(p) = v.([]any)
		return nil
	}
	return &kindError{"an array"}
}

func decodeAnyMap(s *scanner, p unsafe.Pointer) error {
	switch s.next() {
	case 'n':
		*(*map[string]any)(p) = nil
		return s.literal("null")
	case '{':
		v, err := decodeJSONValue(s)
		if err != nil {
			return err
		}
		*(*map[string]any)(p) = v.(map[string]any)
		return nil
	}
	return &kindError{"an object"}
}

// decodeJSONValue reads one value at s's cursor. The scanner checks its
// syntax and depth first, so that the decoding pass can trust it.
func decodeJSONValue(s *scanner) (any, error) {
	raw, err := s.skip()
	if err != nil {
		return nil, err
	}
	d := jsonDecoder{s: scanner{buf: raw, maxDepth: math.MaxInt, base: s.base + int64(s.pos-len(raw))}}
	return d.value()
}

// jsonDecoder decodes one checked JSON value. The members and elements of
// the objects and arrays being read wait in its stacks, innermost last,
// until their container is complete and its size known.
type jsonDecoder struct {
	s    scanner
	keys []string
	vals []any
}

func (d *jsonDecoder) value() (any, error) {
	s := &d.s
	switch c := s.next(); c {
	case '{':
		s.pos++
		bk, bv := len(d.keys), len(d.vals)
		for first := true; ; first = false {
			if s.next() == '}' {
				s.pos++
				break
			}
			if !first {
				s.pos++ // ','
				s.next()
			}
			k, err := s.stringValue()
			if err != nil {
				return nil, err
			}
			s.next()
			s.pos++ // ':'
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			d.keys = append(grow(d.keys), k)
			d.vals = append(grow(d.vals), v)
		}
		m := make(map[string]any, len(d.keys)-bk)
		for i, k := range d.keys[bk:] {
			m[k] = d.vals[bv+i] // a repeated name: the last wins, as in encoding/json
		}
		clear(d.vals[bv:])
		d.keys, d.vals = d.keys[:bk], d.vals[:bv]
		return m, nil
	case '[':
		s.pos++
		base := len(d.vals)
		for first := true; ; first = false {
			if s.next() == ']' {
				s.pos++
				break
			}
			if !first {
				s.pos++ // ','
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			d.vals = append(grow(d.vals), v)
		}
		a := make([]any, len(d.vals)-base)
		copy(a, d.vals[base:])
		clear(d.vals[base:])
		d.vals = d.vals[:base]
		return a, nil
	case '"':
		return s.stringValue()
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return nil, s.literal("null")
	}
	num, err := s.number()
	if err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(num), len(num)), 64)
	if err != nil {
		return nil, errors.New("want float64, got JSON number " + string(num))
	}
	return f, nil
}

// grow doubles a full stack of jsonDecoder's. append grows a large slice by
// a quarter at a time, which for one huge array allocates five times its
// size in all; doubling allocates twice.
func grow[E any](s []E) []E {
	if len(s) < cap(s) {
		return s
	}
	return slices.Grow(s, max(len(s), 16))
}

package recstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// A Transform converts one attribute's values between a backend's form and
// the model's, like an Ember Data transform. An attribute names a custom
// transform with `recstore:"transform=NAME"`; serializers find it by name
// in their Transforms. A Transform must be safe for concurrent use.
//
// Deserialize is given the payload's value as encoding/json decodes it
// into an any (nil, bool, float64, string, []any, map[string]any) and
// returns a value whose JSON form the field accepts. Serialize is given
// the field's Go value and returns a value to write with encoding/json.
type Transform interface {
	// Deserialize turns a payload's value into the model's form.
	Deserialize(v any) (any, error)
	// Serialize turns a field's Go value into the backend's form.
	Serialize(v any) (any, error)
}

// TransformFuncs adapts two ordinary functions to the Transform
// interface. A nil function passes values through unchanged.
type TransformFuncs struct {
	DeserializeFunc func(v any) (any, error) // Transform.Deserialize; nil passes v through
	SerializeFunc   func(v any) (any, error) // Transform.Serialize; nil passes v through
}

// Deserialize calls f.DeserializeFunc(v).
func (f TransformFuncs) Deserialize(v any) (any, error) {
	if f.DeserializeFunc == nil {
		return v, nil
	}
	return f.DeserializeFunc(v)
}

// Serialize calls f.SerializeFunc(v).
func (f TransformFuncs) Serialize(v any) (any, error) {
	if f.SerializeFunc == nil {
		return v, nil
	}
	return f.SerializeFunc(v)
}

// rawAttrs returns an empty slice with room for n attributes, carved
// from a slab so that a payload's records share a few allocations.
func (n *normalizer) rawAttrs(size int) []rawAttr {
	if len(n.attrSlab)+size > cap(n.attrSlab) {
		// Earlier slices keep the old slab alive while this push needs
		// them; the pool then keeps only the newest, largest one.
		n.attrSlab = make([]rawAttr, 0, max(size, 1024, 2*cap(n.attrSlab)))
	}
	start := len(n.attrSlab)
	n.attrSlab = n.attrSlab[:start+size]
	return n.attrSlab[start : start : start+size]
}

// newResource returns a Resource of type typ, from a slab when the
// Document goes straight to a push.
func (n *normalizer) newResource(typ string) *Resource {
	if !n.fast {
		return &Resource{Type: typ}
	}
	if len(n.resSlab) == cap(n.resSlab) {
		n.resSlab = make([]Resource, 0, max(256, 2*cap(n.resSlab)))
	}
	n.resSlab = append(n.resSlab, Resource{Type: typ})
	return &n.resSlab[len(n.resSlab)-1]
}

// offsetIn returns where sub starts within buf, if it lies wholly inside
// it and its offsets fit a rawAttr.
func offsetIn(buf, sub []byte) (int, bool) {
	if len(sub) == 0 || len(buf) == 0 || len(buf) > math.MaxUint32 {
		return 0, false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	if p < b || p+uintptr(len(sub)) > b+uintptr(len(buf)) {
		return 0, false
	}
	return int(p - b), true
}

// keepRaw is what transform returns when the payload's value is already
// what the attribute takes, so that the raw bytes are used as they are
// (and not boxed in an interface).
type keepRaw struct{}

// setAttr records attribute i of r, as transform returned it for raw.
// For a push (n.fast) it keeps raw bytes in r.raw, which the push decodes
// directly; otherwise it fills the public Attributes map.
func (n *normalizer) setAttr(r *Resource, t *table, i int, raw []byte, v any) {
	_, keep := v.(keepRaw)
	if n.fast {
		if r.raw == nil {
			r.raw = n.rawAttrs(len(t.attrs))
		}
		rs := n.doc.raws
		ra := rawAttr{i: int32(i), kind: rawNull}
		switch {
		case keep:
			if off, ok := offsetIn(rs.payload, raw); ok {
				ra.kind, ra.start, ra.end = rawPayload, uint32(off), uint32(off+len(raw))
			} else {
				ra.kind, ra.start = rawExtra, uint32(len(rs.extra))
				rs.extra = append(rs.extra, raw)
			}
		case v != nil:
			ra.kind, ra.start = rawValue, uint32(len(rs.values))
			rs.values = append(rs.values, v)
		}
		r.raw = append(r.raw, ra)
		return
	}
	if r.Attributes == nil {
		r.Attributes = make(map[string]any, len(t.attrs))
	}
	if keep {
		v = json.RawMessage(raw)
	}
	r.Attributes[t.attrs[i].name] = v
}

// transform turns a payload value into what the attribute a takes,
// applying its custom transform or Ember Data's coercion for its kind.
func (n *normalizer) transform(custom map[string]Transform, t *table, id string, a *attrField, raw json.RawMessage) (any, error) {
	bad := func(err error) error {
		val := string(raw)
		if len(val) > 64 {
			val = val[:61] + "..."
		}
		return n.fail(&AttributeError{Type: t.name, ID: id, Attr: a.name, Value: val, GoType: a.typ, Err: err})
	}
	if a.transform != "" {
		tr, ok := custom[a.transform]
		if !ok {
			return nil, bad(fmt.Errorf("%w %q", ErrUnknownTransform, a.transform))
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		out, err := tr.Deserialize(v)
		if err != nil {
			return nil, bad(fmt.Errorf("transform %q: %w", a.transform, err))
		}
		return out, nil
	}
	c := firstByte(raw)
	if c == 'n' {
		return keepRaw{}, nil
	}
	switch a.coerce {
	case coerceDate:
		return n.dateTransform(raw, bad)
	case coerceString:
		switch c {
		case '"':
			return keepRaw{}, nil
		case '{', '[':
			// Ember's String(v) gives "[object Object]", or an array's
			// elements joined by commas: text no Go field wants. Take
			// null, as for a number, and report the loss.
			n.lost = lossStringObject
			return nil, nil
		}
		return string(raw), nil // true, false or a number, as its text
	case coerceBool:
		switch c {
		case 't', 'f':
			return keepRaw{}, nil
		case '"':
			s, err := n.sc.unquote(raw[1 : len(raw)-1])
			if err != nil {
				return nil, bad(err)
			}
			// Compare without lowering a copy of what may be megabytes.
			v := strings.EqualFold(s, "true") || strings.EqualFold(s, "t") || s == "1"
			if !v && !isFalseString(s) {
				n.lost = lossBoolStr
			}
			return v, nil
		}
		if c == '-' || '0' <= c && c <= '9' {
			f, _ := strconv.ParseFloat(string(raw), 64)
			if f != 0 && f != 1 {
				n.lost = lossBoolNum
			}
			return f == 1, nil
		}
		n.lost = lossBoolOther
		if a.nullable {
			return nil, nil
		}
		return false, nil
	case coerceInt, coerceFloat:
		isInt := a.coerce == coerceInt
		switch c {
		case '"':
			s, err := n.sc.unquote(raw[1 : len(raw)-1])
			if err != nil {
				return nil, bad(err)
			}
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, nil
			}
			f, ok := jsNumber(s)
			if !ok || math.IsInf(f, 0) {
				n.lost = lossNaN
				if ok {
					n.lost = lossRange
				}
				return nil, nil // Number("abc") is NaN, which Ember Data stores as null
			}
			if isInt {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					return json.Number(strconv.FormatInt(n, 10)), nil
				}
				return integral(f, bad)
			}
			return f, nil
		case 't':
			return json.Number("1"), nil
		case 'f':
			return json.Number("0"), nil
		case '{', '[':
			// Ember's Number(v) is NaN for an object, which it stores as
			// null; JavaScript reads [] as 0 and [5] as 5, but an array
			// is no number to a Go field either: null, reported.
			n.lost = lossNumberObject
			return nil, nil
		}
		// A number such as 1e3 or 2.0 is an integer to a JavaScript
		// backend; one with a fraction is not, and fails here, where the
		// pointer still names the payload's member. One too big for a
		// float64 is Infinity to JavaScript, which Ember Data stores as
		// null.
		if isInt && !isPlainInteger(raw) || !isInt && (len(raw) > 20 || bytes.ContainsAny(raw, "eE")) {
			f, err := strconv.ParseFloat(string(raw), 64)
			if math.IsInf(f, 0) {
				n.lost = lossRange
				return nil, nil
			}
			if err != nil {
				return nil, bad(err)
			}
			if isInt {
				return integral(f, bad)
			}
		}
	}
	return keepRaw{}, nil
}

// jsNumber reads s as JavaScript's Number(s) does for the strings Ember
// Data's number transform sees: decimal with an optional sign, fraction
// and exponent, "Infinity", or 0x, 0o and 0b integers. ok is false where
// Number gives NaN. s is trimmed and not empty.
func jsNumber(s string) (f float64, ok bool) {
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return radixNumber(s[2:], base)
		}
	}
	if t := strings.TrimLeft(s, "+-"); t == "Infinity" && len(s) <= len("Infinity")+1 {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false // strconv would also take "inf", "nan", "1_000" and hex floats
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// radixNumber reads digits, the part of a 0x, 0o or 0b literal after its
// prefix, in base 16, 8 or 2, as Number() does: the nearest float64,
// ties to even, however many digits there are. It makes one pass and
// keeps only the leading 60-odd significant bits and whether any bit
// below them is set (the sticky bit), which is all that rounding to 53
// bits needs; math/big would cost time quadratic in the length.
func radixNumber(digits string, base int) (float64, bool) {
	shift := uint(bits.TrailingZeros(uint(base)))
	var m uint64 // the leading significant bits
	exp := 0     // bits dropped below m
	sticky := false
	for i := 0; i < len(digits); i++ {
		d := uint64(digitValue(digits[i]))
		if d >= uint64(base) {
			return 0, false // as Number("0o8") and Number("0x1_0"), NaN
		}
		if m>>(64-shift) == 0 {
			m = m<<shift | d
			continue
		}
		exp += int(shift)
		sticky = sticky || d != 0
	}
	n := bits.Len64(m)
	if n <= 53 {
		return math.Ldexp(float64(m), exp), true // exact; sticky needs n >= 60
	}
	drop := uint(n - 53)
	mant, rem, half := m>>drop, m&(1<<drop-1), uint64(1)<<(drop-1)
	if rem > half || rem == half && (sticky || mant&1 == 1) {
		mant++ // 1<<53 at most, still exact
	}
	return math.Ldexp(float64(mant), int(drop)+exp), true
}

// digitValue is the value of the hexadecimal digit c, or 255.
func digitValue(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// isPlainInteger reports whether a scanned JSON number has neither a
// fraction nor an exponent. raw is already known to be valid JSON.
func isPlainInteger(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return false
	}
	for _, c := range raw[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// integral returns f as an integer JSON number, or fails if it has a
// fraction or is beyond what an int64 holds exactly.
func integral(f float64, bad func(error) error) (any, error) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return nil, bad(fmt.Errorf("%v is not an integer", f))
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), nil
}

// dateTransform reads a date as Ember Data's date transform does: a
// string in ISO 8601 form (a "+HHMM" offset is accepted), or a number of
// milliseconds since the Unix epoch. A value of any other JSON type (an
// object, an array, a boolean) is null, as Ember's transform makes it,
// rather than failing the payload: a zero time.Time, a nil *time.Time. It
// is a lossy coercion: reported, and an error for a Strict serializer.
func (n *normalizer) dateTransform(raw json.RawMessage, bad func(error) error) (any, error) {
	switch c := firstByte(raw); {
	case c == '"':
		// No layout is longer than maxDateLen: a longer string fails at
		// once rather than in each layout, which copies it into its error.
		if len(raw) > 2*maxDateLen {
			return nil, bad(errors.New("not an ISO 8601 date"))
		}
		s, err := n.sc.unquote(raw[1 : len(raw)-1])
		if err != nil {
			return nil, bad(err)
		}
		if len(s) > maxDateLen {
			return nil, bad(errors.New("not an ISO 8601 date"))
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm.Format(time.RFC3339Nano), nil
			}
		}
		return nil, bad(errors.New("not an ISO 8601 date"))
	case c == '-' || '0' <= c && c <= '9':
		ms, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.Abs(ms) > 8.64e15 {
			return nil, bad(errors.New("not a time in milliseconds"))
		}
		return time.UnixMilli(int64(ms)).UTC().Format(time.RFC3339Nano), nil
	}
	n.lost = lossDate
	return nil, nil
}

// maxDateLen bounds the dates dateTransform reads: the longest, with
// nanoseconds and an offset, is 35 bytes; the rest is slack for spaces.
const maxDateLen = 64

var jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()

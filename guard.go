package recstore

// This file holds the guards some attribute types get on top of their
// decoder: math/big numbers kept to a linear cost, and values a type's own
// UnmarshalJSON puts into interface fields kept copyable.

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"unsafe"
)

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// MaxBigNumberBytes is the longest number an attribute holding a math/big
// value (big.Int, big.Float, big.Rat, or a type built of them) accepts,
// as a JSON number or as the leading number of a JSON string. math/big
// parses decimal text in time quadratic in its length, so a longer one
// would let one document cost minutes of CPU; 1,000 digits is far past
// any amount, id or measure a backend sends.
const MaxBigNumberBytes = 1000

// bigKinds reports whether values of t hold a math/big number somewhere,
// and whether one of them is a big.Rat, whose exponent it expands into
// digits (1e1000000 is a million digits from nine bytes).
func bigKinds(t reflect.Type) (holds, rat bool) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t {
		case bigIntType, bigFloatType:
			holds = true
			return
		case bigRatType:
			holds, rat = true, true
			return
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				walk(t.Field(i).Type)
			}
		}
	}
	walk(t)
	return holds, rat
}

// guardBig wraps dec, the decoder of a type that holds math/big values,
// so that it first checks every number in the value against
// MaxBigNumberBytes and, with rat, every exponent against maxRatExponent,
// which keeps a big.Rat's digits linear in the document. The check costs
// one more pass over the value.
func guardBig(dec func(*scanner, unsafe.Pointer) error, rat bool) func(*scanner, unsafe.Pointer) error {
	return func(s *scanner, p unsafe.Pointer) error {
		start, depth := s.pos, s.depth
		raw, err := s.skip()
		if err != nil {
			return err
		}
		if err := checkBigText(raw, rat); err != nil {
			return err
		}
		s.pos, s.depth = start, depth
		return dec(s, p)
	}
}

var errBigNumber = fmt.Errorf("a number for a math/big value is longer than %d bytes", MaxBigNumberBytes)

// checkBigText checks the numbers in raw, a JSON value already scanned:
// number tokens, and the leading number of each string (big.Float and
// big.Rat read strings).
func checkBigText(raw []byte, rat bool) error {
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '"':
			j := i + 1
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			if err := checkBigNumber(raw[i+1:min(j, len(raw))], rat); err != nil {
				return err
			}
			i = j + 1
		case c == '-' || '0' <= c && c <= '9':
			j := i
			for j < len(raw) && isNumberByte(raw[j]) {
				j++
			}
			if err := checkBigNumber(raw[i:j], rat); err != nil {
				return err
			}
			i = j
		default:
			i++
		}
	}
	return nil
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' || c == '/' || c == '_'
}

// maxRatExponent is the largest decimal exponent a big.Rat attribute
// takes in a number of n bytes: 100, plus 4 per byte, so that its digits
// (0.42 bytes each) stay within a few bytes per document byte.
func maxRatExponent(n int) int { return 100 + 4*n }

// checkBigNumber checks the number that tok starts with, if any.
func checkBigNumber(tok []byte, rat bool) error {
	n := 0
	for n < len(tok) && isNumberByte(tok[n]) {
		n++
	}
	if n > MaxBigNumberBytes {
		return errBigNumber
	}
	if !rat {
		return nil
	}
	for i := 0; i < n; i++ {
		if tok[i] != 'e' && tok[i] != 'E' {
			continue
		}
		j := i + 1
		if j < n && (tok[j] == '+' || tok[j] == '-') {
			j++
		}
		exp := 0
		for ; j < n && '0' <= tok[j] && tok[j] <= '9'; j++ {
			if exp = exp*10 + int(tok[j]-'0'); exp > maxRatExponent(n) {
				return fmt.Errorf("the exponent of %q is over %d, which a big.Rat would spell out in digits", tok[:min(n, 32)], maxRatExponent(n))
			}
		}
	}
	return nil
}

// guardShared wraps dec, the decoder of a type whose own UnmarshalJSON can
// put any Go value into an interface field, so that a value the Store could
// not copy (one whose type Register would refuse, such as a pointer to a
// struct with hidden slices) is an error now rather than memory the Store
// shares with every reader.
func guardShared(dec func(*scanner, unsafe.Pointer) error, t reflect.Type) func(*scanner, unsafe.Pointer) error {
	return func(s *scanner, p unsafe.Pointer) error {
		if err := dec(s, p); err != nil {
			return err
		}
		return copyable(reflect.NewAt(t, p).Elem(), 0)
	}
}

// copyable reports an error for the first value inside v, reached through
// interfaces, that cloneJSON would have to share.
func copyable(v reflect.Value, depth int) error {
	if depth > MaxDepthCeiling {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		switch e.Interface().(type) {
		case string, float64, bool, json.Number:
			return nil
		}
		if e.Type() != anyMapType && e.Type() != anySliceType {
			if _, err := clonerFor(e.Type()); err != nil {
				return fmt.Errorf("holds a value of type %s, which a copy would share: %w", e.Type(), err)
			}
		}
		return copyable(e, depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return copyable(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := copyable(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := copyable(it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if err := copyable(v.Field(i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// unmarshalsAny reports whether t, or a type inside it, decodes itself
// (json.Unmarshaler or encoding.TextUnmarshaler) and holds an interface
// somewhere, where its decoder may put values of any type.
func unmarshalsAny(t reflect.Type) bool {
	seen := map[reflect.Type]bool{}
	var custom, iface bool
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) ||
			t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
			custom = true
		}
		switch t.Kind() {
		case reflect.Interface:
			iface = true
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				walk(t.Field(i).Type)
			}
		}
	}
	walk(t)
	return custom && iface
}

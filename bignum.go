package recstore

import (
	"fmt"
	"reflect"
	"unsafe"
)

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


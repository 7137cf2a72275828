package recstore

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// radixNumber must give what math/big gives (the nearest float64, ties
// to even) for 0x, 0o and 0b literals of any length, in one pass. The
// cases sit on the rounding boundaries: exactly half way, half way plus
// a far sticky bit, and carries into the next power of two.
func TestRadixNumber(t *testing.T) {
	tests := []struct{ name, s string }{
		{"small hex", "0x10"},
		{"max uint64", "0xffffffffffffffff"},
		{"2^64", "0x10000000000000000"},
		{"53 bits", "0x1fffffffffffff"},
		{"54 bits, tie to even (down)", "0x20000000000001"},
		{"54 bits, tie to even (up)", "0x20000000000003"},
		{"tie broken by a far sticky bit", "0x20000000000001" + strings.Repeat("0", 40) + "1"},
		{"tie kept without sticky bit", "0x20000000000001" + strings.Repeat("0", 41)},
		{"carry into a new power of two", "0x" + strings.Repeat("f", 30)},
		{"leading zeros", "0x" + strings.Repeat("0", 100) + "abc"},
		{"octal past 2^64", "0o" + strings.Repeat("7", 30)},
		{"octal tie", "0o" + "4" + strings.Repeat("0", 17) + "1" + strings.Repeat("0", 5)},
		{"binary 200 bits", "0b1" + strings.Repeat("01", 100)},
		{"binary tie plus sticky", "0b1" + strings.Repeat("0", 52) + "1" + strings.Repeat("0", 70) + "1"},
		{"upper case", "0XABCDEF0123456789ABCDEF"},
		{"overflows to Infinity", "0x1" + strings.Repeat("0", 300)},
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		prefix, digits := []string{"0x", "0o", "0b"}[i%3], []string{"0123456789abcdef", "01234567", "01"}[i%3]
		var b strings.Builder
		b.WriteString(prefix)
		for range 1 + rnd.IntN(90) {
			b.WriteByte(digits[rnd.IntN(len(digits))])
		}
		tests = append(tests, struct{ name, s string }{"random", b.String()})
	}
	for _, tt := range tests {
		want := bigFloat(tt.s)
		got, ok := jsNumber(tt.s)
		assert.True(t, ok, "%s: %q not read", tt.name, tt.s)
		assert.Equal(t, want, got, "%s: %q: got %b, want %b", tt.name, tt.s, got, want)
	}
	for _, bad := range []string{"0x", "0o8", "0b2", "0x1_0", "0xg", "0x-1", "0x 1"} {
		_, ok := jsNumber(bad)
		assert.False(t, ok, "%q is NaN to Number()", bad)
	}
}

// bigFloat is the oracle: math/big's exact conversion.
func bigFloat(s string) float64 {
	b, ok := new(big.Int).SetString(s[2:], map[byte]int{'x': 16, 'X': 16, 'o': 8, 'b': 2}[s[1]])
	if !ok {
		return math.NaN()
	}
	f, _ := new(big.Float).SetInt(b).Float64()
	return f
}

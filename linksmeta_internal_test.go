package recstore

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// exactNumber agrees with a slow oracle: a literal is exact when a
// float64 parses it without error and formats back to the same rational.
func TestExactNumber(t *testing.T) {
	oracle := func(lit string) bool {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return false
		}
		a, ok1 := new(big.Rat).SetString(lit)
		b, ok2 := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
		return ok1 && ok2 && a.Cmp(b) == 0
	}
	lits := []string{"0", "-0", "0.0", "1", "-1", "1.50", "0.1", "1e2", "1E+2", "-2.5e-3", "9007199254740992", "9007199254740993",
		"123456789012345", "1234567890123456", "12345678901234567", "123456789012345678", "100000000000000000000",
		"0.30000000000000001", "0.30000000000000004", "1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e309",
		"2.2250738585072014e-308", "5e-324", "2e-324", "1e-400", "4.9406564584124654e-324", "0.000000000000000000001"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		switch r.IntN(4) {
		case 0: // a float64's shortest formats
			f := r.NormFloat64() * float64(r.Int64N(1<<62))
			lits = append(lits, strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'e', 16, 64))
		case 1: // integers around 2^53 and beyond
			lits = append(lits, strconv.FormatUint(r.Uint64()>>r.IntN(20), 10))
		case 2: // decimals of 14 to 19 digits
			n := 14 + r.IntN(6)
			d := strconv.FormatUint(r.Uint64()|1<<63, 10)[:n]
			lits = append(lits, "0."+d, d[:1]+"."+d[1:]+"e"+strconv.Itoa(r.IntN(600)-300))
		default: // trailing and leading zeros
			lits = append(lits, "0.000"+strconv.Itoa(r.IntN(1000))+strings.Repeat("0", r.IntN(30)))
		}
	}
	for _, lit := range lits {
		assert.Equal(t, oracle(lit), exactNumber(lit), "exactNumber(%q)", lit)
	}
}

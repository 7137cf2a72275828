package inflect

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Long words are inflected but not cached: a payload's megabyte-long
// keys must not stay in memory after the push that brought them.
func TestRules_LongWordsNotCached(t *testing.T) {
	r := English()
	long := strings.Repeat("x", 1<<20) + "-albums"
	assert.Equal(t, strings.Repeat("x", 1<<20)+"-album", r.Singular(long))
	assert.Equal(t, "album", r.Singular("albums"))
	assert.Len(t, r.singleCache, 1, "only the short word is cached")
	assert.NotContains(t, r.singleCache, long)
}

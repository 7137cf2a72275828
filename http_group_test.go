package recstore_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
)

// naiveHookGroups is the reference for GroupForFindMany with a hook: ids
// added one by one, each joining the current group unless the hook's URL
// for the group with it is longer than limit; an empty id, or one holding
// a comma, goes alone.
func naiveHookGroups(hook func(base, typ string, ids []string) string, base, typ string, ids []string, limit int) [][]string {
	var groups [][]string
	var cur []string
	for _, id := range ids {
		if id == "" || strings.Contains(id, ",") {
			groups = append(groups, []string{id})
			continue
		}
		if len(cur) > 0 && len(hook(base, typ, append(slices.Clone(cur), id))) > limit {
			groups = append(groups, cur)
			cur = nil
		}
		cur = append(cur, id)
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// hookIDs returns n ids of varied lengths, with a comma id and an empty
// id now and then when odd is set.
func hookIDs(n int, odd bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i) + strings.Repeat("x", i%7)
		if odd && i%37 == 5 {
			out[i] = fmt.Sprintf("a,%d", i)
		}
		if odd && i%53 == 11 {
			out[i] = ""
		}
	}
	return out
}

// With a hook, GroupForFindMany gives the groups adding ids one by one
// gives, in the same order, for any limit.
func TestHTTPAdapter_GroupForFindManyHookMatchesNaive(t *testing.T) {
	const host = "http://api.example.com"
	hooks := []struct {
		name string
		hook func(base, typ string, ids []string) string
	}{
		{"path", recstore.CommaIDsURL},
		{"brackets", idsBrackets},
	}
	inputs := []struct {
		name string
		ids  []string
	}{
		{"none", nil},
		{"one", []string{"1"}},
		{"plain", hookIDs(300, false)},
		{"with ids that go alone", hookIDs(300, true)},
		{"only ids that go alone", []string{"", "a,b", "", "c,d"}},
		{"alone first and last", append(append([]string{"a,b"}, hookIDs(40, false)...), "")},
	}
	for _, h := range hooks {
		for _, in := range inputs {
			for _, limit := range []int{1, 30, 45, 60, 100, 257, 1000, 4096, 1 << 20} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", h.name, in.name, limit), func(t *testing.T) {
					a := &recstore.HTTPAdapter{Host: host, MaxURLLength: limit, URLForFindMany: h.hook}
					want := naiveHookGroups(h.hook, host+"/albums", "album", in.ids, limit)
					got := a.GroupForFindMany("album", slices.Clone(in.ids))
					assert.Equal(t, want, got, "ids %q", in.ids)
				})
			}
		}
	}
}

// 16,000 ids group with O(log k) hook calls per group of k, where adding
// them one by one took a call, and a URL as long as the group, per id.
func TestHTTPAdapter_GroupForFindManyHookLarge(t *testing.T) {
	const host = "http://api.example.com"
	ids := hookIDs(16000, true)
	for _, limit := range []int{8192, 1 << 20} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			var calls atomic.Int64
			hook := func(base, typ string, ids []string) string {
				calls.Add(1)
				return recstore.CommaIDsURL(base, typ, ids)
			}
			a := &recstore.HTTPAdapter{Host: host, MaxURLLength: limit, URLForFindMany: hook}
			groups := a.GroupForFindMany("album", slices.Clone(ids))
			n := calls.Load()

			var all []string
			var shared int // groups of ids that may share one
			for i, g := range groups {
				require.NotEmpty(t, g, "group %d", i)
				all = append(all, g...)
				if g[0] == "" || strings.Contains(g[0], ",") {
					assert.Len(t, g, 1, "%q goes alone", g[0])
					continue
				}
				shared++
				if len(g) > 1 {
					assert.LessOrEqual(t, len(recstore.CommaIDsURL(host+"/albums", "album", g)), limit, "group %d fits", i)
				}
			}
			// Every id once. (The groups are not in the ids' order: one going
			// alone comes before the group its neighbours share.)
			assert.Equal(t, sorted(ids), sorted(all), "every id once")
			// Each group is as large as it may be: with the next id that may
			// share a group, the URL would be too long.
			var rest []string
			for _, id := range ids {
				if id != "" && !strings.Contains(id, ",") {
					rest = append(rest, id)
				}
			}
			off := 0
			for _, g := range groups {
				if g[0] == "" || strings.Contains(g[0], ",") {
					continue
				}
				off += len(g)
				if off < len(rest) {
					more := append(slices.Clone(g), rest[off])
					assert.Greater(t, len(recstore.CommaIDsURL(host+"/albums", "album", more)), limit, "group ending before %q could take it", rest[off])
				}
			}
			// Galloping then bisecting: about 2·log2(k) calls for a group of k.
			assert.LessOrEqual(t, n, int64(shared*2*16), "hook calls for %d groups of %d ids", shared, len(rest))
		})
	}
}

// A hook that breaks its promise (a larger group giving a shorter URL)
// still gets groups whose URLs fit, each id once.
func TestHTTPAdapter_GroupForFindManyHookNotMonotonic(t *testing.T) {
	const host = "http://api.example.com"
	hook := func(base, typ string, ids []string) string {
		if len(ids)%3 == 0 {
			return base // shorter for every third size
		}
		return recstore.CommaIDsURL(base, typ, ids)
	}
	ids := hookIDs(200, false)
	a := &recstore.HTTPAdapter{Host: host, MaxURLLength: 60, URLForFindMany: hook}
	groups := a.GroupForFindMany("album", slices.Clone(ids))
	var all []string
	for _, g := range groups {
		all = append(all, g...)
		if len(g) > 1 {
			assert.LessOrEqual(t, len(hook(host+"/albums", "album", g)), 60, "group %q", g)
		}
	}
	assert.Equal(t, ids, all, "every id once, in order")
}

// GroupForFindMany hands the hook ids it may modify without harm to the
// groups it returns.
func TestHTTPAdapter_GroupForFindManyHookModifies(t *testing.T) {
	const host = "http://api.example.com"
	hook := func(base, typ string, ids []string) string {
		u := recstore.CommaIDsURL(base, typ, ids)
		for i := range ids {
			ids[i] = "changed"
		}
		return u
	}
	ids := hookIDs(50, false)
	a := &recstore.HTTPAdapter{Host: host, MaxURLLength: 80, URLForFindMany: hook}
	groups := a.GroupForFindMany("album", slices.Clone(ids))
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	assert.Equal(t, ids, all, "the groups hold the ids asked for")
	assert.Equal(t, naiveHookGroups(recstore.CommaIDsURL, host+"/albums", "album", ids, 80), groups)
}

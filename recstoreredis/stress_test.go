package recstoreredis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// TestStress_converges: three Stores save, find and reload (FindAll
// included) 30 records at random for a second, with Ember's background
// reloads on. Afterwards no Store holds, as fresh, a record that differs
// from the backend's: each copy is current, or marked stale. A review's
// version of this found three bugs (a save's value lost to pushes during
// its flight, own messages' versions used as data versions, collection
// loads landing old data as fresh).
func TestStress_converges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cache  bool
		unload bool
	}{{"cache", true, false}, {"cache-unload", true, true}, {"no-cache", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 3, tc.cache, &Options{Unload: tc.unload})
			const n = 30
			for i := 4; i < n; i++ {
				require.NoError(t, c.backend.Load([]byte(albumDoc(fmt.Sprint(i), "init"))))
			}
			ctx := context.Background()
			stop := time.Now().Add(time.Second)
			var wg sync.WaitGroup
			for w, nd := range c.nodes {
				wg.Go(func() {
					rnd := rand.New(rand.NewPCG(uint64(w), 7))
					for j := 0; time.Now().Before(stop); j++ {
						id := fmt.Sprint(1 + rnd.IntN(n-1))
						switch rnd.IntN(10) {
						case 0, 1:
							if _, err := nd.albums.Find(ctx, id, nil); err != nil {
								continue
							}
							title := fmt.Sprintf("n%d-%d", w, j)
							if _, err := nd.albums.Edit(id, func(a *album) { a.Title = title }); err == nil {
								_, _ = nd.albums.Save(ctx, id)
							}
						case 2:
							_, _ = nd.albums.FindAll(ctx, nil)
						default:
							_, _ = nd.albums.Find(ctx, id, nil)
						}
					}
				})
			}
			wg.Wait()
			for _, nd := range c.nodes {
				nd.s.Wait()
				require.NoError(t, nd.r.Flush(ctx))
			}
			eventually(t, func() bool {
				for _, nd := range c.nodes {
					if nd.r.Stats().Queued > 0 {
						return false
					}
				}
				return true
			}, "messages left")
			time.Sleep(50 * time.Millisecond) // the last messages reach the others
			for i, nd := range c.nodes {
				for id := 1; id < n; id++ {
					want, err := c.backend.FindRecord(ctx, &recstore.Request{Type: "albums", ID: fmt.Sprint(id)})
					require.NoError(t, err)
					got, f, ok := nd.albums.PeekFreshness(fmt.Sprint(id))
					if ok && !f.Invalidated && !strings.Contains(string(want), fmt.Sprintf("%q", got.Title)) {
						t.Errorf("Store %d holds album %d as %q, fresh; the backend has %s", i, id, got.Title, want)
					}
				}
			}
		})
	}
}

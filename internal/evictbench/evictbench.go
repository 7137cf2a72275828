// Package evictbench replays the traces of internal/evictsim through real
// caches: otter v2 (W-TinyLFU with an adaptive window, as Caffeine), otter
// v1 (S3-FIFO) and hashicorp/golang-lru v2 (LRU), to check the simulators'
// hit ratios against implementations in use. It is a separate module so
// that these caches never become dependencies of recstore.
//
//	cd internal/evictbench && go test -run '^$' -bench . -benchtime 3x
//
// BenchmarkReal also runs evictsim's own policies, so that one run gives
// the whole table.
package evictbench

import (
	lru "github.com/hashicorp/golang-lru/v2"
	otter1 "github.com/maypok86/otter"
	otter2 "github.com/maypok86/otter/v2"

	"github.com/recstore/recstore/internal/evictsim"
)

// Caches lists the real caches measured, each adapted to evictsim.Policy.
func Caches() []evictsim.PolicySpec {
	return []evictsim.PolicySpec{
		{Name: "golang-lru", New: newGolangLRU},
		{Name: "otter-v1-S3-FIFO", New: newOtterV1},
		{Name: "otter-v2-W-TinyLFU", New: newOtterV2},
	}
}

// golangLRU adapts hashicorp/golang-lru v2's LRU.
type golangLRU struct{ c *lru.Cache[uint64, struct{}] }

func newGolangLRU(capacity int) evictsim.Policy {
	c, err := lru.New[uint64, struct{}](capacity)
	if err != nil {
		panic(err) // only for capacity <= 0; benchmarks never ask
	}
	return golangLRU{c}
}

func (g golangLRU) Get(key uint64) bool { _, ok := g.c.Get(key); return ok }
func (g golangLRU) Add(key uint64)      { g.c.Add(key, struct{}{}) }
func (g golangLRU) Len() int            { return g.c.Len() }

// otterV2 adapts otter v2, with maintenance run synchronously on the
// calling goroutine so that the replay is deterministic.
type otterV2 struct {
	c *otter2.Cache[uint64, struct{}]
}

func newOtterV2(capacity int) evictsim.Policy {
	return otterV2{otter2.Must(&otter2.Options[uint64, struct{}]{
		MaximumSize: capacity,
		Executor:    func(fn func()) { fn() },
	})}
}

func (o otterV2) Get(key uint64) bool { _, ok := o.c.GetIfPresent(key); return ok }
func (o otterV2) Add(key uint64)      { o.c.Set(key, struct{}{}) }
func (o otterV2) Len() int            { return o.c.EstimatedSize() }

// otterV1 adapts otter v1, an S3-FIFO whose policy is updated by a
// background goroutine from lossy buffers (Close stops it).
type otterV1 struct {
	c otter1.Cache[uint64, struct{}]
}

func newOtterV1(capacity int) evictsim.Policy {
	c, err := otter1.MustBuilder[uint64, struct{}](capacity).Build()
	if err != nil {
		panic(err)
	}
	return otterV1{c}
}

func (o otterV1) Get(key uint64) bool { _, ok := o.c.Get(key); return ok }
func (o otterV1) Add(key uint64)      { o.c.Set(key, struct{}{}) }
func (o otterV1) Len() int            { return o.c.Size() }

// Close stops otter v1's background goroutine.
func (o otterV1) Close() error { o.c.Close(); return nil }

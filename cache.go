package recstore

// Causes of eviction, indexes of tableStats.evicted.
const (
	causeStoreRecords = iota
	causeStoreBytes
	causeTypeRecords
	causeTypeBytes
)

// The bits of entry.meta.
const (
	metaInvalid uint64 = 1 << 5 // Invalidate marked the record
)

// setMeta sets or clears bits in e.meta.
func (e *entry) setMeta(bits uint64, on bool) {
	for {
		m := e.meta.Load()
		n := m &^ bits
		if on {
			n = m | bits
		}
		if m == n || e.meta.CompareAndSwap(m, n) {
			return
		}
	}
}

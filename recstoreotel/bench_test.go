package recstoreotel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoreotel"
	"github.com/recstore/recstore/recstoretest"
)

// BenchmarkCollect times one collection of a Store with two types
// through the SDK's ManualReader: "Stats" is the baseline, Store.Stats
// alone; "Collect" is Register's callback plus the SDK's aggregation.
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	s := recstore.New(&recstore.Options{Adapter: recstoretest.NewMemoryAdapter(fixtures)})
	defer s.Close()
	books := recstore.MustRegister[book](s, nil)
	recstore.MustRegister[author](s, nil)
	_, err := books.Find(ctx, "1", nil)
	require.NoError(b, err)
	s.Wait()

	b.Run("Stats", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = s.Stats()
		}
	})
	b.Run("Collect", func(b *testing.B) {
		reader := sdkmetric.NewManualReader()
		provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer func() { _ = provider.Shutdown(ctx) }()
		_, err := recstoreotel.Register(s, provider.Meter(recstoreotel.ScopeName))
		require.NoError(b, err)
		var rm metricdata.ResourceMetrics
		b.ReportAllocs()
		for b.Loop() {
			if err := reader.Collect(ctx, &rm); err != nil {
				b.Fatal(err)
			}
		}
	})
}

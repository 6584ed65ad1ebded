package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// BatchHook returns a function for loaders.Config.OnBatch: each dataloader
// batch becomes a span of tp and a sample of the batch-size histogram of m.
// Both may be nil.
func BatchHook(m *Metrics, tp trace.TracerProvider) func(ctx context.Context, loader string, keys int) (context.Context, func()) {
	if !Tracing(tp) {
		return func(ctx context.Context, loader string, keys int) (context.Context, func()) {
			m.Batch(loader, keys)
			return ctx, func() {}
		}
	}
	tracer := tp.Tracer(tracerName)
	return func(ctx context.Context, loader string, keys int) (context.Context, func()) {
		m.Batch(loader, keys)
		ctx, span := tracer.Start(ctx, "dataloader "+loader, trace.WithAttributes(
			attribute.String("dataloader.name", loader),
			attribute.Int("dataloader.batch_size", keys)))
		return ctx, func() { span.End() }
	}
}

module otel-sigma.test/collector/windowseventlog

go 1.26.0

require (
	github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza v0.160.0
	go.opentelemetry.io/collector/component v1.66.0
	go.opentelemetry.io/collector/consumer v1.66.0
	go.opentelemetry.io/collector/receiver v1.66.0
	go.opentelemetry.io/collector/receiver/xreceiver v0.160.0
)

//! OpenTelemetry export for the `locus` process: traces and metrics over
//! OTLP (HTTP, protobuf) when an OTLP endpoint is configured, nothing
//! otherwise. The libraries only speak `tracing` (GenAI semantic
//! conventions, see `locus_providers::telemetry`); this is where their spans
//! and metric events are turned into OpenTelemetry data.
//!
//! Configured by the standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (or `…_TRACES_ENDPOINT` / `…_METRICS_ENDPOINT`), `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_SERVICE_NAME` (default `locus`), `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` (`none` turns a signal
//! off), `OTEL_SDK_DISABLED`, `OTEL_METRIC_EXPORT_INTERVAL`.

use oci_auth::Env;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;

/// The crates whose spans are exported, at INFO.
const SPAN_TARGETS: [&str; 3] = ["locus_providers", "locus_agent", "locus_gateway"];

/// Which signals to export, decided from the environment alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Export spans.
    pub traces: bool,
    /// Export metrics.
    pub metrics: bool,
    /// Why something configured is not exported, for a warning.
    pub warning: Option<String>,
}

impl Plan {
    /// Reads the `OTEL_*` variables.
    ///
    /// ```
    /// use oci_auth::StaticEnv;
    /// use locus_cli::telemetry::Plan;
    /// assert_eq!(Plan::from_env(&StaticEnv::new()), Plan::default());
    /// let env = StaticEnv::new().with_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
    /// assert!(Plan::from_env(&env).traces && Plan::from_env(&env).metrics);
    /// ```
    pub fn from_env(env: &dyn Env) -> Plan {
        let var = |name: &str| env.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Plan::default();
        }
        let endpoint = var("OTEL_EXPORTER_OTLP_ENDPOINT");
        let wanted = |signal: &str| {
            let exporter = var(&format!("OTEL_{signal}_EXPORTER"));
            let endpoint = endpoint.is_some() || var(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")).is_some();
            endpoint && exporter.is_none_or(|e| e.eq_ignore_ascii_case("otlp"))
        };
        let mut plan = Plan { traces: wanted("TRACES"), metrics: wanted("METRICS"), warning: None };
        for name in
            ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"]
        {
            if let Some(protocol) = var(name).filter(|p| p != "http/protobuf") {
                if plan.traces || plan.metrics {
                    plan.warning = Some(format!(
                        "{name}={protocol} is not supported (locus exports OTLP over http/protobuf, usually port \
                         4318); telemetry is not exported"
                    ));
                }
                plan.traces = false;
                plan.metrics = false;
            }
        }
        plan
    }
}

/// The exporting providers; [`shutdown`](Self::shutdown) flushes them.
#[derive(Debug, Default)]
pub struct Telemetry {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// Builds the exporters `plan` asks for and the `tracing` layers that
    /// feed them. Must run outside an async runtime (the exporters send from
    /// threads of their own). A failure is a warning: the command still runs.
    pub fn start<S>(plan: &Plan, env: &dyn Env) -> (Telemetry, Option<Box<dyn Layer<S> + Send + Sync>>)
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let mut telemetry = Telemetry::default();
        let mut layers: Vec<Box<dyn Layer<S> + Send + Sync>> = Vec::new();
        if !plan.traces && !plan.metrics {
            return (telemetry, None);
        }
        let resource = resource(env);
        if plan.traces {
            match opentelemetry_otlp::SpanExporter::builder().with_http().build() {
                Ok(exporter) => {
                    let provider = SdkTracerProvider::builder()
                        .with_batch_exporter(Watched::new(exporter))
                        .with_resource(resource.clone())
                        .build();
                    let spans =
                        SPAN_TARGETS.iter().fold(Targets::new(), |t, name| t.with_target(*name, LevelFilter::INFO));
                    let tracer = provider.tracer("locus");
                    layers.push(Box::new(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(spans)));
                    telemetry.tracer = Some(provider);
                }
                Err(e) => eprintln!("warning: OpenTelemetry traces are not exported: {e}"),
            }
        }
        if plan.metrics {
            match opentelemetry_otlp::MetricExporter::builder().with_http().build() {
                Ok(exporter) => {
                    let provider =
                        SdkMeterProvider::builder().with_periodic_exporter(exporter).with_resource(resource).build();
                    let metrics =
                        Targets::new().with_target(locus_providers::telemetry::METRICS_TARGET, LevelFilter::TRACE);
                    layers.push(Box::new(
                        tracing_opentelemetry::MetricsLayer::new(provider.clone()).with_filter(metrics),
                    ));
                    telemetry.meter = Some(provider);
                }
                Err(e) => eprintln!("warning: OpenTelemetry metrics are not exported: {e}"),
            }
        }
        let layer = layers.into_iter().reduce(|a, b| Box::new(a.and_then(b)));
        (telemetry, layer)
    }

    /// Sends what is still buffered and stops the exporters.
    pub fn shutdown(self) {
        if let Some(tracer) = self.tracer
            && let Err(e) = tracer.shutdown()
        {
            eprintln!("warning: the last OpenTelemetry spans were not sent ({e}); is the collector up?");
        }
        if let Some(meter) = self.meter
            && let Err(e) = meter.shutdown()
        {
            eprintln!("warning: the last OpenTelemetry metrics were not sent ({e}); is the collector up?");
        }
    }
}

/// A span exporter that says, once, when the collector cannot be reached:
/// the batch processor would drop the batch without a word.
#[derive(Debug)]
struct Watched<E> {
    inner: E,
    warned: std::sync::atomic::AtomicBool,
}

impl<E> Watched<E> {
    fn new(inner: E) -> Self {
        Watched { inner, warned: std::sync::atomic::AtomicBool::new(false) }
    }
}

impl<E: opentelemetry_sdk::trace::SpanExporter> opentelemetry_sdk::trace::SpanExporter for Watched<E> {
    async fn export(&self, batch: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        let result = self.inner.export(batch).await;
        if let Err(e) = &result
            && !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // Not `tracing`: this runs inside the span pipeline.
            eprintln!("warning: cannot send OpenTelemetry spans to the OTLP endpoint ({e}); is the collector up?");
        }
        result
    }

    fn shutdown_with_timeout(&mut self, timeout: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&mut self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// `service.name` from `OTEL_SERVICE_NAME`, else `locus`; `OTEL_RESOURCE_ATTRIBUTES` as the SDK reads them.
fn resource(env: &dyn Env) -> Resource {
    let builder = Resource::builder();
    let builder = match env.var("OTEL_SERVICE_NAME").filter(|v| !v.trim().is_empty()) {
        Some(_) => builder,
        None => builder.with_service_name("locus"),
    };
    builder.with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION"))).build()
}

#[cfg(test)]
mod tests {
    use super::Plan;
    use oci_auth::StaticEnv;

    fn plan(vars: &[(&str, &str)]) -> Plan {
        Plan::from_env(&vars.iter().fold(StaticEnv::new(), |env, (k, v)| env.with_var(*k, *v)))
    }

    #[test]
    fn signals_follow_the_standard_variables() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert_eq!(plan(&[]), Plan::default(), "nothing without an endpoint");
        assert!(plan(&[endpoint]).traces && plan(&[endpoint]).metrics);
        let traces_only = plan(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")]);
        assert!(traces_only.traces && !traces_only.metrics);
        let no_metrics = plan(&[endpoint, ("OTEL_METRICS_EXPORTER", "none")]);
        assert!(no_metrics.traces && !no_metrics.metrics);
        assert_eq!(plan(&[endpoint, ("OTEL_SDK_DISABLED", "true")]), Plan::default());
    }

    #[test]
    fn an_unsupported_protocol_is_a_warning_not_a_silent_loss() {
        let plan = plan(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
        assert!(!plan.traces && !plan.metrics);
        assert!(plan.warning.unwrap().contains("http/protobuf"));
    }
}

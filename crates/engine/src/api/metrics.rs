//! `/metrics`: Prometheus text, so that server users can alert from Grafana: per schedule its
//! last success time, last status, duration, size and counts; and whether a scheduler runs.

use std::fmt::Write as _;

use super::{Api, SchedulerMode};
use crate::error::Result;

/// A label value in Prometheus' text format (backslash, quote and newline escaped).
fn label(text: &str) -> String {
    text.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

impl Api {
    /// The metrics in Prometheus' text exposition format.
    pub async fn metrics(&self) -> Result<String> {
        // The schedules' part changes only with the store; it is kept between scrapes.
        let version = self.store.version().await;
        let schedules = match self.kept_metrics.get("", version) {
            Some(text) => text,
            None => {
                let text = std::sync::Arc::new(self.schedule_metrics().await?);
                self.kept_metrics.keep("", version, text.clone());
                text
            }
        };
        let here = self.status_here().await;
        let state = self.state_of(&[], here).await?;
        let mut out = String::new();
        family(
            &mut out,
            "billora_backup_scheduler_up",
            "gauge",
            "1 when a scheduler is running (not degraded) on this data folder.",
        );
        let _ = writeln!(
            out,
            "billora_backup_scheduler_up {}",
            u8::from(state.state == SchedulerMode::Running)
        );
        out.push_str(&schedules);
        Ok(out)
    }

    /// Per schedule: whether it is on, its last success, status, duration, size and counts.
    async fn schedule_metrics(&self) -> Result<String> {
        let schedules = self.store.list_schedules().await?;
        let mut out = String::new();
        let mut lines: Vec<(String, String)> = Vec::new();
        let summaries: std::collections::HashMap<i64, _> = self
            .store
            .run_summaries()
            .await?
            .into_iter()
            .map(|(id, newest, status, duration, size)| (id, (newest, status, duration, size)))
            .collect();
        for s in &schedules {
            let labels = format!(
                "schedule_id=\"{}\",schedule=\"{}\",backup_type=\"{}\"",
                s.id,
                label(&s.name),
                s.backup_type.as_str()
            );
            let (newest, status, duration, size) =
                summaries.get(&s.id).cloned().unwrap_or_default();
            let newest = newest.and_then(|t| crate::time::from_stored(&t).ok());
            let last = status.map(|status| (status, duration, size));
            lines.push((
                "billora_backup_schedule_active".into(),
                format!("{{{labels}}} {}", u8::from(s.is_active)),
            ));
            if let Some(at) = newest {
                lines.push((
                    "billora_backup_last_success_timestamp_seconds".into(),
                    format!("{{{labels}}} {}", at.as_second()),
                ));
            }
            if let Some((status, duration, size)) = last {
                lines.push((
                    "billora_backup_last_run_success".into(),
                    format!("{{{labels}}} {}", u8::from(status == "success")),
                ));
                if let Some(d) = duration {
                    lines.push((
                        "billora_backup_last_duration_seconds".into(),
                        format!("{{{labels}}} {d}"),
                    ));
                }
                if let Some(size) = size {
                    lines.push((
                        "billora_backup_last_size_bytes".into(),
                        format!("{{{labels}}} {size}"),
                    ));
                }
            }
            lines.push((
                "billora_backup_success_total".into(),
                format!("{{{labels}}} {}", s.success_count),
            ));
            lines.push((
                "billora_backup_failed_total".into(),
                format!("{{{labels}}} {}", s.failed_count),
            ));
        }
        let families = [
            (
                "billora_backup_schedule_active",
                "gauge",
                "1 when the schedule is turned on.",
            ),
            (
                "billora_backup_last_success_timestamp_seconds",
                "gauge",
                "When the schedule's newest successful backup was made (Unix time).",
            ),
            (
                "billora_backup_last_run_success",
                "gauge",
                "1 when the schedule's last run succeeded, 0 when it did not.",
            ),
            (
                "billora_backup_last_duration_seconds",
                "gauge",
                "How long the schedule's last run took.",
            ),
            (
                "billora_backup_last_size_bytes",
                "gauge",
                "The size of the schedule's last backup file.",
            ),
            (
                "billora_backup_success_total",
                "counter",
                "Successful runs of the schedule.",
            ),
            (
                "billora_backup_failed_total",
                "counter",
                "Failed runs of the schedule.",
            ),
        ];
        for (name, kind, help) in families {
            let values: Vec<&String> = lines
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v)
                .collect();
            if values.is_empty() {
                continue;
            }
            family(&mut out, name, kind, help);
            for v in values {
                let _ = writeln!(out, "{name}{v}");
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn label_values_cannot_break_the_format() {
        assert_eq!(
            label("a\"b\\c\nd"),
            r#"a\"b\\c\nd"#,
            "quote, backslash, newline escaped"
        );
    }
}

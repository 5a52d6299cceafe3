//! Field rules shared by the kinds: non-negative counts, rollout
//! strategies, int-or-percent values, and RFC 1123 names and labels (from
//! `api_validation`), with the API server's messages.

use super::pod::join;
use super::{Ctx, wire};
use crate::model::workload::{IntOrPercent, Kind, Strategy};

pub(super) fn non_negative(ctx: &mut Ctx, path: &str, value: i32) -> u64 {
    if value < 0 {
        ctx.error(
            path,
            format!("Invalid value: {value}: must be greater than or equal to 0"),
        );
    }
    value.max(0) as u64
}

/// `spec.strategy` (Deployment) or `spec.updateStrategy` (DaemonSet), defaulted as Kubernetes does.
pub(super) fn strategy(
    ctx: &mut Ctx,
    path: &str,
    wire: Option<&wire::DeploymentStrategy>,
    kind: Kind,
) -> Strategy {
    let (types, default_surge, default_unavailable) = match kind {
        Kind::DaemonSet => (
            ["RollingUpdate", "OnDelete"],
            IntOrPercent::Int(0),
            IntOrPercent::Int(1),
        ),
        _ => (
            ["Recreate", "RollingUpdate"],
            IntOrPercent::Percent(25),
            IntOrPercent::Percent(25),
        ),
    };
    let kind_text = wire
        .and_then(|w| w.kind.as_deref())
        .unwrap_or("RollingUpdate");
    let rolling = wire.and_then(|w| w.rolling_update.as_ref());
    match kind_text {
        "RollingUpdate" => {
            let at = join(path, "rollingUpdate");
            let surge = rolling
                .and_then(|r| r.max_surge.as_ref())
                .map_or(Some(default_surge), |v| {
                    int_or_percent(ctx, &format!("{at}.maxSurge"), v, false)
                });
            let unavailable = rolling
                .and_then(|r| r.max_unavailable.as_ref())
                .map_or(Some(default_unavailable), |v| {
                    int_or_percent(ctx, &format!("{at}.maxUnavailable"), v, true)
                });
            let (max_surge, max_unavailable) = (
                surge.unwrap_or(default_surge),
                unavailable.unwrap_or(default_unavailable),
            );
            if surge.is_some()
                && unavailable.is_some()
                && is_zero(max_surge)
                && is_zero(max_unavailable)
            {
                ctx.error(
                    &format!("{at}.maxUnavailable"),
                    "Invalid value: 0: may not be 0 when `maxSurge` is 0",
                );
            }
            Strategy::RollingUpdate {
                max_surge,
                max_unavailable,
            }
        }
        "Recreate" | "OnDelete" if types.contains(&kind_text) => {
            if rolling.is_some() {
                ctx.error(
                    &join(path, "rollingUpdate"),
                    format!(
                        "Forbidden: may not be specified when strategy `type` is '{kind_text}'"
                    ),
                );
            }
            if kind_text == "Recreate" {
                Strategy::Recreate
            } else {
                Strategy::OnDelete
            }
        }
        other => {
            let mut message = format!(
                "Unsupported value: \"{other}\": supported values: \"{}\", \"{}\"",
                types[0], types[1]
            );
            if let Some(hint) = crate::suggest::did_you_mean(other, types.iter().copied()) {
                message.push_str(&format!(" ({hint})"));
            }
            ctx.error(&join(path, "type"), message);
            Strategy::RollingUpdate {
                max_surge: default_surge,
                max_unavailable: default_unavailable,
            }
        }
    }
}

pub(super) fn is_zero(value: IntOrPercent) -> bool {
    matches!(value, IntOrPercent::Int(0) | IntOrPercent::Percent(0))
}

/// An int-or-percent field: non-negative, a valid percent, at most 100% when `capped`.
pub(super) fn int_or_percent(
    ctx: &mut Ctx,
    path: &str,
    value: &wire::IntOrString,
    capped: bool,
) -> Option<IntOrPercent> {
    match value {
        wire::IntOrString::Int(v) if *v < 0 => {
            ctx.error(
                path,
                format!("Invalid value: {v}: must be greater than or equal to 0"),
            );
            None
        }
        wire::IntOrString::Int(v) => match i32::try_from(*v) {
            Ok(v) => Some(IntOrPercent::Int(v)),
            Err(_) => {
                ctx.error(
                    path,
                    format!("Invalid value: {v}: must be a 32-bit integer"),
                );
                None
            }
        },
        wire::IntOrString::Str(text) => match IntOrPercent::parse(text) {
            Some(IntOrPercent::Percent(p)) if capped && p > 100 => {
                ctx.error(
                    path,
                    format!("Invalid value: \"{text}\": must not be greater than 100%"),
                );
                None
            }
            Some(parsed) => Some(parsed),
            None => {
                ctx.error(
                    path,
                    format!(
                        "Invalid value: \"{text}\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
                    ),
                );
                None
            }
        },
    }
}

/// The first of `IsDNS1123Label`'s problems (`api_validation` has them all).
pub(super) fn dns_label(text: &str) -> Option<String> {
    super::api_validation::dns1123_label(text)
        .into_iter()
        .next()
}

/// The first of `IsDNS1123Subdomain`'s problems.
pub(super) fn dns_subdomain(text: &str) -> Option<String> {
    super::api_validation::dns1123_subdomain(text)
        .into_iter()
        .next()
}

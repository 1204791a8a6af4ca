//! `parley notify`, `amend`, `cancel`, `ack`, `activities`: activity notices.

use super::files::Defaults;
use super::output::{self, cell, state_cell, Colour, Table};
use super::volumes::{self, Volumes};
use super::{conflicts, seg, ApiError, Client, Global, Outcome, EXIT_HELP};
use anyhow::{anyhow, bail, Result};
use parley_service::{canonical_volumes, Claim};
use serde_json::{json, Value};

pub const NOTIFY_HELP: &str = "\
FILE holds the volumes, or `-` for standard input: one F3548 Volume4D, a JSON
array of them, a GeoJSON Feature or FeatureCollection (Polygon, or Point with
radius_m; properties altitude_lower_m, altitude_upper_m, time_start, time_end),
or an object with `volumes` (a notice body).

Examples:
  parley notify syria-air strike.json --category air --contact \"Blue CAOC, channel 2\"
  parley notify syria-air route.geojson --dry-run     # the conflicts, nothing notified

Exit status:
  0  notified (or the dry run found nothing)
  1  conflicts were found (the notice is recorded unless --dry-run)
  2  bad input: the file, or a field the server refused (named in the message)
  3  server or network error";

pub const ACK_HELP: &str = "\
Shows what you acknowledge (the activity, version, content hash, a summary, and
each volume's place: centre and extent in decimal degrees and DMS, altitudes
in metres above WGS84, start and end) and asks for confirmation on a terminal; without a terminal it needs --yes. An
acknowledgment means *received*, never *approved*.

Examples:
  parley ack act-5e0b3a7c92d14f68              # the current version, after confirmation
  parley ack act-5e0b3a7c92d14f68 --version 2 --yes

Exit status:
  0  acknowledged
  2  refused: no confirmation, or a stale version or changed content (the
     server's 409), or another bad input
  3  server or network error";

#[derive(clap::Args)]
pub struct NotifyArgs {
    #[command(flatten)]
    g: Global,
    /// The line.
    line: String,
    /// The volumes: F3548 JSON or GeoJSON (`-` for standard input), KML,
    /// KMZ or GPX (by the file's extension).
    file: String,
    #[command(flatten)]
    from: Defaults,
    /// air, maritime, ground, launch or movement.
    #[arg(long, default_value = "air")]
    category: String,
    /// Who to call about it (default: the profile's, see `login --contact`).
    #[arg(long)]
    contact: Option<String>,
    /// Only report the conflicts; notify nothing.
    #[arg(long)]
    dry_run: bool,
    /// Send it even if it looks like a mistake (its windows have all ended,
    /// or a volume reaches outside the line's region of operation).
    #[arg(long)]
    confirm_unusual: bool,
}

#[derive(clap::Args)]
#[command(disable_version_flag = true)]
pub struct AmendArgs {
    #[command(flatten)]
    g: Global,
    /// The activity.
    activity: String,
    /// The whole new set of volumes (as for `notify`).
    file: String,
    #[command(flatten)]
    from: Defaults,
    /// The version replaced (default: the current one as read now).
    #[arg(long)]
    version: Option<u64>,
    /// A new category.
    #[arg(long)]
    category: Option<String>,
    /// A new point of contact.
    #[arg(long)]
    contact: Option<String>,
    /// Only report the conflicts; amend nothing.
    #[arg(long)]
    dry_run: bool,
    /// Send it even if it looks like a mistake (as for `notify`).
    #[arg(long)]
    confirm_unusual: bool,
}

#[derive(clap::Args)]
#[command(after_help = EXIT_HELP, disable_version_flag = true)]
pub struct CancelArgs {
    #[command(flatten)]
    g: Global,
    /// The activity.
    activity: String,
    /// The version replaced (default: the current one as read now).
    #[arg(long)]
    version: Option<u64>,
}

#[derive(clap::Args)]
#[command(disable_version_flag = true)]
pub struct AckArgs {
    #[command(flatten)]
    g: Global,
    /// The activity.
    activity: String,
    /// The version to acknowledge (default: the current one).
    #[arg(long)]
    version: Option<u64>,
    /// Do not ask; acknowledge.
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  parley activities --line syria-air\n  parley activities show act-5e0b3a7c92d14f68"
)]
pub struct Args {
    #[command(flatten)]
    g: Global,
    /// Only this line's activities.
    #[arg(long)]
    line: Option<String>,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the activities you may see (the default).
    List,
    /// One activity with every version and acknowledgment.
    Show {
        /// The activity.
        activity: String,
    },
    /// Its current version as ICAO NOTAM text (for a NOTAM office to issue).
    Notam {
        /// The activity.
        activity: String,
        /// The FIR of item A and the Q-line (default XXXX).
        #[arg(long)]
        fir: Option<String>,
    },
    /// Its current version as a NAVAREA-style navigational warning.
    Navarea {
        /// The activity.
        activity: String,
        /// The NAVAREA, in Roman numerals (default XX).
        #[arg(long)]
        area: Option<String>,
    },
}

fn load_volumes(file: &str, from: &Defaults) -> Result<Volumes> {
    super::files::load(file, from)
}

/// Prints a notice's or amendment's answer; `Found` when it has conflicts.
fn answered(g: &Global, v: &Value, what: &str) -> Result<Outcome> {
    let found = v["conflicts"].as_array().is_some_and(|c| !c.is_empty());
    if g.json {
        output::print_json(v);
    } else {
        let id = output::s(v, "activity");
        let version = output::text(&v["version"]);
        if v["dry_run"] == true && what == "notified" {
            // A new activity has no id until it is recorded.
            outln!("dry run: the notice would be {what} as a new activity; nothing was recorded, no id was given");
        } else if v["dry_run"] == true {
            outln!("dry run: {id} would be {what} to version {version}; nothing was recorded");
        } else {
            outln!(
                "{what} {id} version {version} (content sha256 {})",
                output::s(v, "content_sha256")
            );
        }
        if v["late"] == true {
            outln!(
                "{}",
                output::paint(
                    "late: given with less notice than the line's lead time",
                    Colour::Yellow
                )
            );
        }
        if found {
            outln!();
            let list = v["conflicts"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            conflicts::print(list, v["dry_run"] == true);
        } else if v["dry_run"] == true {
            outln!("no conflict would be found");
        } else {
            outln!("no conflict");
        }
    }
    Ok(if found { Outcome::Found } else { Outcome::Ok })
}

pub fn notify(a: NotifyArgs) -> Result<Outcome> {
    let vols = load_volumes(&a.file, &a.from)?;
    let profile = super::profile::load(&a.g.profile)?;
    let contact = a
        .contact
        .or_else(|| profile.and_then(|p| p.contact))
        .ok_or_else(|| {
            anyhow!(
                "--contact: give who to call about it (or save one with `parley login --contact`)"
            )
        })?;
    let c = Client::new(&a.g)?;
    let body = json!({"category": a.category, "point_of_contact": contact,
        "volumes": vols.volumes, "dry_run": a.dry_run, "confirm_unusual": a.confirm_unusual});
    let path = format!("/v1/lines/{}/notices", seg(&a.line));
    // Volumes that do not validate here do not at the server either: sent
    // unsigned, its refusal names the field, located in the file.
    let v = match canonical_volumes(&vols.volumes) {
        Ok(canonical) if !a.dry_run => c.post_signed(&path, &body, |me| {
            let declared = Claim::notice_content(
                &canonical,
                &a.line,
                &me.party,
                "notified",
                &a.category,
                &contact,
            );
            Ok(Claim::notify(&a.line, &declared))
        }),
        _ => c.post(&path, &body).map_err(Into::into),
    }
    .map_err(|e| located(&vols, e))?;
    answered(&a.g, &v, "notified")
}

/// A server's refusal pointing into the volumes, located in their file.
fn located(vols: &Volumes, e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<ApiError>() {
        Ok(api) => vols.locate(api, "/volumes"),
        Err(e) => e,
    }
}

fn current_version(c: &Client, activity: &str) -> Result<Value> {
    Ok(c.get(&format!("/v1/activities/{}", seg(activity)))?)
}

pub fn amend(a: AmendArgs) -> Result<Outcome> {
    let vols = load_volumes(&a.file, &a.from)?;
    let c = Client::new(&a.g)?;
    let current = current_version(&c, &a.activity)?;
    let version = a
        .version
        .unwrap_or(current["version"].as_u64().unwrap_or(1));
    let mut body = json!({"replaces_version": version, "volumes": vols.volumes,
        "dry_run": a.dry_run, "confirm_unusual": a.confirm_unusual});
    if let Some(cat) = &a.category {
        body["category"] = json!(cat);
    }
    if let Some(contact) = &a.contact {
        body["point_of_contact"] = json!(contact);
    }
    let path = format!("/v1/activities/{}/amendments", seg(&a.activity));
    let v = match canonical_volumes(&vols.volumes) {
        Ok(canonical) if !a.dry_run => c.post_signed(&path, &body, |me| {
            // What is kept unless changed: the replaced version's.
            let was = &version_of(&current, Some(version))
                .ok_or_else(|| anyhow!("--version: {} has no version {version}", a.activity))?
                ["content"];
            let category = a.category.as_deref().unwrap_or(output::s(was, "category"));
            let contact = a
                .contact
                .as_deref()
                .unwrap_or(output::s(was, "point_of_contact"));
            let line = output::s(&current, "line");
            let declared =
                Claim::notice_content(&canonical, line, &me.party, "notified", category, contact);
            Ok(Claim::amend(line, &a.activity, version + 1, &declared))
        }),
        _ => c.post(&path, &body).map_err(Into::into),
    }
    .map_err(|e| located(&vols, e))?;
    answered(&a.g, &v, "amended")
}

pub fn cancel(a: CancelArgs) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let current = current_version(&c, &a.activity)?;
    let version = a
        .version
        .unwrap_or(current["version"].as_u64().unwrap_or(1));
    let v = c.post_signed(
        &format!("/v1/activities/{}/cancellation", seg(&a.activity)),
        &json!({"replaces_version": version}),
        |_| {
            let was = version_of(&current, Some(version))
                .ok_or_else(|| anyhow!("--version: {} has no version {version}", a.activity))?;
            let line = output::s(&current, "line");
            Ok(Claim::cancel(
                line,
                &a.activity,
                version + 1,
                &was["content"],
            ))
        },
    )?;
    if a.g.json {
        output::print_json(&v);
    } else {
        outln!("cancelled {} (version {version} replaced)", a.activity);
    }
    Ok(Outcome::Ok)
}

/// The version `n` of an activity (from `versions`), or the current one.
fn version_of(activity: &Value, n: Option<u64>) -> Option<Value> {
    match n {
        None => activity.get("current").cloned(),
        Some(n) => activity["versions"]
            .as_array()?
            .iter()
            .find(|v| v["version"].as_u64() == Some(n))
            .cloned(),
    }
}

/// What an acknowledgment reads back, in a few lines.
fn describe(activity: &Value, version: &Value) -> String {
    let content = &version["content"];
    let vols = content["volumes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let current = activity["version"].as_u64();
    let n = version["version"].as_u64();
    let stale = if current != n {
        format!(
            " (the current version is {})",
            output::text(&activity["version"])
        )
    } else {
        String::new()
    };
    // Each volume's place, altitudes and window, from what the server stored.
    let mut places = String::new();
    for (i, v) in vols.iter().enumerate() {
        let label = format!("  volume {}", i + 1);
        let width = label.len().max(11);
        match volumes::facts(v) {
            Some(f) => places.push_str(&format!(
                "{label:<width$}{}",
                volumes::place_lines(&f, width)
            )),
            None => places.push_str(&format!(
                "{label:<width$}cannot be read here; do not acknowledge, call the sender\n"
            )),
        }
    }
    format!(
        "activity {} version {}{stale} from {} on {}\n  state    {}\n  category {}\n  contact  {}\n  volumes  {}\n{places}  content  sha256 {}\n",
        output::s(activity, "id"),
        output::text(&version["version"]),
        output::s(activity, "party"),
        output::s(activity, "line"),
        output::s(version, "state"),
        output::s(content, "category"),
        output::s(content, "point_of_contact"),
        volumes::summary(vols),
        output::s(version, "content_sha256"),
    )
}

pub fn ack(a: AckArgs) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let activity = current_version(&c, &a.activity)?;
    let Some(version) = version_of(&activity, a.version) else {
        bail!(
            "--version: {} has no version {}; its current version is {}",
            a.activity,
            a.version.unwrap_or(0),
            output::text(&activity["version"])
        );
    };
    let summary = describe(&activity, &version);
    // The summary goes where a person reads it: stdout, or stderr under --json.
    if a.g.json {
        eprint!("acknowledging {summary}");
    } else {
        out!("acknowledging {summary}");
    }
    super::ask(
        a.yes,
        "Acknowledge receipt of this version?",
        "not acknowledged",
        "acknowledge",
    )?;
    let v = c.post_signed(
        &format!("/v1/activities/{}/acknowledgments", seg(&a.activity)),
        &json!({"version": version["version"], "content_sha256": version["content_sha256"]}),
        |me| {
            Ok(Claim::acknowledge(
                output::s(&activity, "line"),
                &a.activity,
                version["version"].as_u64().unwrap_or_default(),
                &me.party,
                output::s(&version, "content_sha256"),
            ))
        },
    )?;
    if a.g.json {
        output::print_json(&v);
    } else if v["already_acknowledged"] == true {
        outln!(
            "{} version {} was already acknowledged by your party; nothing new was recorded",
            a.activity,
            output::text(&version["version"])
        );
    } else {
        outln!(
            "acknowledged {} version {} (received, not approved)",
            a.activity,
            output::text(&version["version"])
        );
    }
    Ok(Outcome::Ok)
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    match a.action.unwrap_or(Action::List) {
        Action::List => {
            let path = match &a.line {
                Some(l) => format!("/v1/activities?line={}", seg(l)),
                None => "/v1/activities".to_string(),
            };
            let v = c.get(&path)?;
            if a.g.json {
                output::print_json(&v);
                return Ok(Outcome::Ok);
            }
            let mut t = Table::new(&[
                "activity",
                "line",
                "party",
                "version",
                "state",
                "received by",
                "sha256",
            ]);
            for x in v["activities"].as_array().into_iter().flatten() {
                t.row(vec![
                    cell(output::s(x, "id")),
                    cell(output::s(x, "line")),
                    cell(output::s(x, "party")),
                    cell(output::text(&x["version"])),
                    state_cell(output::s(x, "state")),
                    cell(output::text(&x["received_by"])),
                    (
                        output::s(x, "content_sha256").chars().take(12).collect(),
                        Colour::Dim,
                    ),
                ]);
            }
            if t.is_empty() {
                outln!("no activities");
            } else {
                t.print();
            }
        }
        Action::Notam { activity, fir } => {
            let query = fir.map_or(String::new(), |f| format!("?fir={}", seg(&f)));
            let path = format!("/v1/activities/{}/notam{query}", seg(&activity));
            c.get_lines_into(&path, &mut std::io::stdout().lock())?;
        }
        Action::Navarea { activity, area } => {
            let query = area.map_or(String::new(), |a| format!("?area={}", seg(&a)));
            let path = format!("/v1/activities/{}/navarea{query}", seg(&activity));
            c.get_lines_into(&path, &mut std::io::stdout().lock())?;
        }
        Action::Show { activity } => {
            let v = current_version(&c, &activity)?;
            if a.g.json {
                output::print_json(&v);
                return Ok(Outcome::Ok);
            }
            if let Some(cur) = v.get("current") {
                out!("{}", describe(&v, cur));
            }
            outln!();
            let mut t = Table::new(&["version", "state", "notified", "late", "sha256"]);
            for x in v["versions"].as_array().into_iter().flatten() {
                t.row(vec![
                    cell(output::text(&x["version"])),
                    state_cell(output::s(x, "state")),
                    (output::relative(output::s(x, "logged_at")), Colour::Dim),
                    cell(if x["late"] == true { "late" } else { "" }),
                    cell(output::s(x, "content_sha256")),
                ]);
            }
            t.print();
            let acks = v["acknowledgments"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            outln!();
            if acks.is_empty() {
                outln!("no acknowledgment yet");
            } else {
                let mut t = Table::new(&["acknowledged by", "operator", "version", "when"]);
                for x in acks {
                    t.row(vec![
                        cell(output::s(x, "party")),
                        cell(output::s(x, "operator")),
                        cell(output::text(&x["version"])),
                        (output::relative(output::s(x, "logged_at")), Colour::Dim),
                    ]);
                }
                t.print();
            }
        }
    }
    Ok(Outcome::Ok)
}

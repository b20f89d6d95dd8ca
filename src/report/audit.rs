//! `zonecheck report`: one document for the data protection officer and the auditor
//! (Datatilsynet's questions: roles, processing, processors, where special categories live,
//! who may reach them), in Norwegian bokmål or English, as HTML or Markdown.
//!
//! Everything comes from the model and the verdict (and, given a bundle, from its files and
//! their check results, which the CLI computes with the library's check). The document is
//! built once as a `Doc` and rendered either way, so the two formats say the same. Every
//! sentence is written in both languages side by side (`Lang::t`), so neither can lack one.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Severity, Span};
use crate::model::{Auth, ClassId, Confinement, DeviceKind, Model, Node, Platform, Region, Target, Trust};
use crate::syntax::ast::Keyword;
use crate::syntax::date::Date;
use crate::verify::taint::{Bfs, dense, masks};
use crate::verify::{AssumptionKind, Verdict};

use super::doc::{Block, Doc, Section};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Nb,
    En,
}

impl Lang {
    /// The text in this language; both are always given.
    pub(crate) fn t(self, nb: &str, en: &str) -> String {
        match self {
            Lang::Nb => nb.to_string(),
            Lang::En => en.to_string(),
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }
}

/// One device file of a bundle, with what `check` found.
#[derive(Clone, Debug)]
pub struct BundleFile {
    pub path: String,
    pub device: String,
    pub sha256: String,
    /// The sha256 the manifest records for the file.
    pub manifest_sha256: Option<String>,
    /// `equal`, `different` or `inconclusive`.
    pub verdict: &'static str,
    pub differences: usize,
    pub problems: usize,
}

/// A bundle as the report shows it.
#[derive(Clone, Debug)]
pub struct BundleInfo {
    pub dir: String,
    /// The policy digest the manifest records.
    pub policy_sha256: Option<String>,
    pub files: Vec<BundleFile>,
    /// Devices of the policy the bundle has no file for.
    pub missing: Vec<String>,
}

pub struct Options {
    pub lang: Lang,
    /// The date the report is made (and expiry is judged by).
    pub today: Date,
    pub bundle: Option<BundleInfo>,
}

/// `file.zc:LINE` (the file's base name, so the report does not depend on the checkout).
fn loc(model: &Model, span: Span) -> String {
    if span == Span::NONE {
        return String::new();
    }
    let name = model.sources.name(span.file);
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    format!("{base}:{}", model.sources.line_col(span).0)
}

fn node_label(model: &Model, n: Node) -> String {
    match n {
        Node::System(s) => {
            let sys = model.system(s);
            match &sys.label {
                Some(l) => format!("{} ({l})", sys.name),
                None => sys.name.clone(),
            }
        }
        Node::ZoneRest(z) => format!("{} (*)", model.zone(z).name),
    }
}

fn trust_text(t: Trust, l: Lang) -> String {
    match t {
        Trust::Closed => l.t("lukket", "closed"),
        Trust::Internal => l.t("intern", "internal"),
        Trust::Dmz => l.t("DMZ", "DMZ"),
        Trust::Partner => l.t("partner", "partner"),
        Trust::External => l.t("ekstern", "external"),
    }
}

fn zone_text(model: &Model, z: crate::model::ZoneId, l: Lang) -> String {
    let zone = model.zone(z);
    format!("{} ({})", zone.name, trust_text(zone.trust, l))
}

fn region_text(r: Option<&Region>, l: Lang) -> Option<String> {
    r.map(|r| match r {
        Region::Eea => l.t("EØS", "EEA"),
        Region::Other(r) => r.clone(),
    })
}

fn auth_text(a: Option<Auth>, l: Lang) -> Option<String> {
    a.map(|a| match a {
        Auth::Mfa => l.t("tofaktor (MFA)", "two-factor (MFA)"),
        Auth::Certificate => l.t("sertifikat (bare maskin-til-maskin)", "certificate (machine to machine only)"),
    })
}

fn or_dash(s: Option<&str>) -> String {
    s.map_or_else(|| "—".to_string(), str::to_string)
}

/// Build the report document.
pub(crate) fn document(model: &Model, verdict: &Verdict, options: &Options) -> Doc {
    let l = options.lang;
    let name = model.meta.name.clone().unwrap_or_else(|| l.t("(uten navn)", "(unnamed)"));
    let mut doc = Doc {
        lang: l.tag(),
        title: l.t(&format!("Soner og særlige kategorier: {name}"), &format!("Zones and special categories: {name}")),
        sections: Vec::new(),
    };
    doc.sections.push(overview(model, verdict, options));
    doc.sections.push(method(l));
    doc.sections.push(summary(model, verdict, l));
    let m = masks(model);
    for cv in &verdict.classes {
        doc.sections.extend(class_sections(model, verdict, &m, cv, l));
    }
    doc.sections.push(exceptions(model, options));
    doc.sections.push(findings(model, verdict, l));
    doc.sections.push(enforcement_overview(model, l));
    if let Some(b) = &options.bundle {
        doc.sections.push(bundle(model, b, l));
    }
    doc
}

fn section(level: u8, id: &str, title: String, blocks: Vec<Block>) -> Section {
    Section { level, id: id.to_string(), title, blocks }
}

fn table_or(head: Vec<String>, rows: Vec<Vec<String>>, none: String) -> Block {
    if rows.is_empty() { Block::Para(none) } else { Block::Table { head, rows } }
}

fn overview(model: &Model, verdict: &Verdict, o: &Options) -> Section {
    let l = o.lang;
    let (digest, files) = crate::compile::policy_digest(model);
    let mut facts = vec![
        (l.t("Virksomhet", "Organisation"), or_dash(model.meta.name.as_deref())),
        (l.t("Eier av policyen", "Policy owner"), or_dash(model.meta.owner.as_deref())),
        (l.t("Kontakt", "Contact"), or_dash(model.meta.contact.as_deref())),
    ];
    if let Some(d) = &model.meta.description {
        facts.push((l.t("Beskrivelse", "Description"), d.clone()));
    }
    facts.push((l.t("Rapportdato", "Report date"), o.today.to_string()));
    facts.push((l.t("Policyens sha256", "Policy sha256"), digest));
    facts.push((l.t("Laget med", "Made with"), format!("zonecheck {}", env!("CARGO_PKG_VERSION"))));
    let passes = verdict.passes();
    let leaks = verdict.violations.len();
    let errors = verdict.lint_errors();
    let gaps = verdict.enforcement.gaps.len();
    let line = if passes {
        l.t(
            "BEVIST: ingen data i en avgrenset klasse kan nå et sted der den ikke er tillatt, under forutsetningene nedenfor.",
            "PROVED: no data of a confined class can reach a place where it is not allowed, under the assumptions below.",
        )
    } else {
        l.t(
            &format!(
                "IKKE BEVIST: {leaks} lekkasje(r), {gaps} hull i håndhevingen og {errors} feil i kontrollene; se avsnittene nedenfor."
            ),
            &format!(
                "NOT PROVED: {leaks} leak(s), {gaps} enforcement gap(s) and {errors} error(s) in the checks; see the sections below."
            ),
        )
    };
    let rows: Vec<Vec<String>> = files.into_iter().map(|(f, h)| vec![f, h]).collect();
    section(
        2,
        "overview",
        l.t("Oversikt", "Overview"),
        vec![
            Block::Verdict(passes, line),
            Block::Facts(facts),
            Block::Table { head: vec![l.t("Policyfil", "Policy file"), "sha256".to_string()], rows },
        ],
    )
}

fn method(l: Lang) -> Section {
    section(
        2,
        "method",
        l.t("Hva beviset betyr", "What the proof means"),
        vec![
            Block::Para(l.t(
                "Policyen beskriver soner, systemer, dataklasser og hvert tillatte dataflyt med et dokumentert behov. Hver flyt er en toveiskanal: den som får åpne en forbindelse, kan både sende og lese svaret. En kanal fører alle klasser avsenderen har eller har mottatt, med mindre flyten erklærer hva den fører (en forutsetning som en brannmur ikke kan håndheve, og som derfor står i listen over forutsetninger med begrunnelse).",
                "The policy describes zones, systems, data classes and every permitted flow with a documented need. Each flow is a two-way channel: whoever may open a connection can both send and read the answer. A channel carries every class its sender holds or has received, unless the flow declares what it carries (an assumption no firewall can enforce, and which is therefore listed with its justification).",
            )),
            Block::Para(l.t(
                "En avgrenset klasse er tillatt i sine soner, og hos en skytjeneste (SaaS) som har den og har leverandør, databehandleravtale, lagring i EØS og autentisering. Utlevering er bare lov over flyter som erklærer den med rettslig grunnlag. Brannmurer, svitsjer og vertsbrannmurer konfigureres fra den samme policyen, og konfigurasjonen kontrolleres mot den.",
                "A confined class is allowed in its zones, and at a SaaS system that holds it and declares vendor, data processing agreement, storage in the EEA and authentication. Disclosure is only permitted over flows that declare it with a legal basis. Firewalls, switches and host firewalls are configured from the same policy, and their configuration is checked against it.",
            )),
        ],
    )
}

fn confinement_text(model: &Model, class: ClassId, l: Lang) -> String {
    match &model.class(class).confinement {
        Confinement::None => l.t("ikke avgrenset", "not confined"),
        Confinement::Closed => {
            let zones: Vec<String> =
                model.zones.iter().filter(|z| z.trust == Trust::Closed).map(|z| z.name.clone()).collect();
            l.t(
                &format!("alle lukkede soner ({})", zones.join(", ")),
                &format!("every closed zone ({})", zones.join(", ")),
            )
        }
        Confinement::To(zones) => zones.iter().map(|z| model.zone(*z).name.clone()).collect::<Vec<_>>().join(", "),
    }
}

fn summary(model: &Model, verdict: &Verdict, l: Lang) -> Section {
    let rows: Vec<Vec<String>> = verdict
        .classes
        .iter()
        .map(|cv| {
            let c = model.class(cv.class);
            vec![
                c.name.clone(),
                or_dash(c.label.as_deref()),
                if c.special { l.t("ja (art. 9)", "yes (art. 9)") } else { l.t("nei", "no") },
                if cv.proved { l.t("bevist", "proved") } else { l.t("brutt", "violated") },
                cv.holders.iter().map(|n| model.node_name(*n)).collect::<Vec<_>>().join(", "),
                confinement_text(model, cv.class, l),
            ]
        })
        .collect();
    section(
        2,
        "classes",
        l.t("Avgrensede dataklasser", "Confined data classes"),
        vec![table_or(
            vec![
                l.t("Klasse", "Class"),
                l.t("Betegnelse", "Label"),
                l.t("Særlig kategori", "Special category"),
                l.t("Resultat", "Result"),
                l.t("Lagres hos", "Held by"),
                l.t("Tillatt i", "Allowed in"),
            ],
            rows,
            l.t(
                "Policyen erklærer ingen avgrenset klasse; det er ingenting å bevise.",
                "The policy declares no confined class; there is nothing to prove.",
            ),
        )],
    )
}

fn platform_text(p: Option<Platform>) -> String {
    p.map_or_else(|| "—".to_string(), |p| p.word().to_string())
}

fn class_sections(
    model: &Model,
    verdict: &Verdict,
    m: &crate::verify::taint::Bits,
    cv: &crate::verify::ClassVerdict,
    l: Lang,
) -> Vec<Section> {
    let class = model.class(cv.class);
    let id = format!("class-{}", class.name);
    let title = match &class.label {
        Some(label) => format!("{} — {label}", class.name),
        None => class.name.clone(),
    };
    let yes = || l.t("ja", "yes");
    let no = || l.t("nei", "no");
    let mut facts = vec![
        (l.t("Betegnelse", "Label"), or_dash(class.label.as_deref())),
        (
            l.t("Særlig kategori (GDPR art. 9)", "Special category (GDPR art. 9)"),
            if class.special { yes() } else { no() },
        ),
        (l.t("Tillatt i sonene", "Allowed in the zones"), confinement_text(model, cv.class, l)),
        (
            l.t("Tillatt hos skytjenester", "Allowed at SaaS systems"),
            if cv.allowed_saas.is_empty() {
                l.t("ingen", "none")
            } else {
                cv.allowed_saas.iter().map(|s| model.system(*s).name.clone()).collect::<Vec<_>>().join(", ")
            },
        ),
        (l.t("Resultat", "Result"), if cv.proved { l.t("bevist", "proved") } else { l.t("brutt", "violated") }),
    ];
    facts.push((l.t("Antall steder dataene kan nå", "Number of places the data can reach"), cv.reach.to_string()));
    let mut out =
        vec![section(2, &id, l.t(&format!("Klasse {title}"), &format!("Class {title}")), vec![Block::Facts(facts)])];

    // Holders.
    let holder_rows: Vec<Vec<String>> = cv
        .holders
        .iter()
        .map(|n| {
            let (owner, platform) = match n {
                Node::System(s) => {
                    (or_dash(model.system(*s).owner.as_deref()), platform_text(model.system(*s).platform))
                }
                Node::ZoneRest(_) => ("—".to_string(), "—".to_string()),
            };
            vec![node_label(model, *n), zone_text(model, model.node_zone(*n), l), owner, platform]
        })
        .collect();
    out.push(section(
        3,
        &format!("{id}-holders"),
        l.t("Hvor dataene lagres", "Where the data is held"),
        vec![table_or(
            vec![l.t("System", "System"), l.t("Sone", "Zone"), l.t("Eier", "Owner"), l.t("Plattform", "Platform")],
            holder_rows,
            l.t("Ingen systemer har klassen.", "No system holds the class."),
        )],
    ));

    // Who reaches the holders directly.
    let holders: BTreeSet<Node> = cv.holders.iter().copied().collect();
    let mut direct = Vec::new();
    for (i, f) in model.flows.iter().enumerate() {
        let fid = crate::model::FlowId::from_index(i);
        let to_holder = f.to.nodes.iter().any(|n| holders.contains(n));
        let from_holder = f.from.nodes.iter().any(|n| holders.contains(n));
        if !to_holder && !from_holder {
            continue;
        }
        let others = if to_holder { &f.from } else { &f.to };
        let travels = if m.get(i, cv.class) {
            yes()
        } else {
            let because = f.carries.as_ref().map_or(String::new(), |c| c.because.clone());
            l.t(&format!("nei (forutsetning: «{because}»)"), &format!("no (assumption: “{because}”)"))
        };
        direct.push(vec![
            model.endpoint_text(others),
            if to_holder {
                l.t("til lagringsstedet", "to the holder")
            } else {
                l.t("fra lagringsstedet", "from the holder")
            },
            model.flow_title(fid),
            f.description.clone(),
            travels,
            loc(model, f.header_span),
        ]);
    }
    out.push(section(
        3,
        &format!("{id}-access"),
        l.t("Hvem som har forbindelse til lagringsstedene", "Who connects to the holders"),
        vec![table_or(
            vec![
                l.t("System eller sone", "System or zone"),
                l.t("Retning", "Direction"),
                l.t("Flyt", "Flow"),
                l.t("Dokumentert behov", "Documented need"),
                l.t("Klassen følger med", "Class travels"),
                l.t("Kilde", "Source"),
            ],
            direct,
            l.t("Ingen flyt når lagringsstedene.", "No flow reaches the holders."),
        )],
    ));

    // Where the data can go, and by which flows.
    let starts: Vec<usize> = cv.holders.iter().map(|n| dense(model, *n)).collect();
    let bfs = Bfs::run(model, m, Some(cv.class), starts);
    let violated: BTreeSet<Node> = verdict.violations.iter().filter(|v| v.class == cv.class).map(|v| v.node).collect();
    let mut reach_rows = Vec::new();
    for n in model.nodes() {
        let r = dense(model, n);
        if !verdict.taint.get(r, cv.class) || holders.contains(&n) {
            continue;
        }
        let path = bfs.path_to(model, r);
        let route: Vec<String> =
            std::iter::once(path.first().map_or_else(|| model.node_name(n), |h| model.node_name(h.from)))
                .chain(path.iter().map(|h| model.node_name(h.to)))
                .collect();
        let mut flows: Vec<String> = path.iter().map(|h| model.flow_title(h.flow)).collect();
        flows.dedup();
        let status = if violated.contains(&n) {
            l.t("NEI — lekkasje", "NO — leak")
        } else if crate::verify::zone_permits(model, cv.class, model.node_zone(n)) {
            l.t("ja (sone)", "yes (zone)")
        } else if crate::verify::allowed(model, cv.class, n) {
            l.t("ja (SaaS med avtale)", "yes (SaaS with agreement)")
        } else {
            l.t("ja (erklært utlevering)", "yes (declared export)")
        };
        reach_rows.push(vec![
            node_label(model, n),
            zone_text(model, model.node_zone(n), l),
            status,
            route.join(" → "),
            flows.join("; "),
        ]);
    }
    out.push(section(
        3,
        &format!("{id}-reach"),
        l.t("Hvor dataene kan komme, og gjennom hvilke flyter", "Where the data can go, and through which flows"),
        vec![
            Block::Para(l.t(
                "Korteste vei fra et lagringssted. (*) betyr resten av sonens adresserom, utenom de navngitte systemene.",
                "Shortest path from a holder. (*) means the rest of the zone's address space, outside the named systems.",
            )),
            table_or(
                vec![
                    l.t("Sted", "Place"),
                    l.t("Sone", "Zone"),
                    l.t("Tillatt", "Allowed"),
                    l.t("Vei", "Path"),
                    l.t("Flyter", "Flows"),
                ],
                reach_rows,
                l.t("Dataene forlater ikke lagringsstedene.", "The data does not leave its holders."),
            ),
        ],
    ));

    // Exports.
    let export_rows: Vec<Vec<String>> = cv
        .exports
        .iter()
        .map(|e| {
            let flow = model.flow(e.flow);
            let (from, to) = (model.endpoint_text(&flow.from), model.endpoint_text(&flow.to));
            let way = if e.fetched {
                l.t(&format!("{from} henter fra {to}"), &format!("{from} fetches from {to}"))
            } else {
                l.t(&format!("{from} sender til {to}"), &format!("{from} sends to {to}"))
            };
            vec![model.flow_title(e.flow), way, e.basis.clone(), loc(model, e.span)]
        })
        .collect();
    out.push(section(
        3,
        &format!("{id}-exports"),
        l.t("Utlevering og rettslig grunnlag", "Exports and legal basis"),
        vec![table_or(
            vec![
                l.t("Flyt", "Flow"),
                l.t("Retning", "Direction"),
                l.t("Rettslig grunnlag", "Legal basis"),
                l.t("Kilde", "Source"),
            ],
            export_rows,
            l.t("Ingen utlevering er erklært.", "No export is declared."),
        )],
    ));

    // Processors: SaaS systems holding or receiving the class.
    let mut proc_rows = Vec::new();
    for (i, s) in model.systems.iter().enumerate() {
        let n = Node::System(crate::model::SystemId::from_index(i));
        if !s.is_saas() || !verdict.taint.get(dense(model, n), cv.class) {
            continue;
        }
        let missing = l.t("MANGLER", "MISSING");
        proc_rows.push(vec![
            node_label(model, n),
            s.vendor.clone().unwrap_or_else(|| missing.clone()),
            s.dpa.clone().unwrap_or_else(|| missing.clone()),
            region_text(s.region.as_ref(), l).unwrap_or_else(|| missing.clone()),
            auth_text(s.auth, l).unwrap_or_else(|| missing.clone()),
            if s.holds.contains(&cv.class) { l.t("lagrer", "holds") } else { l.t("mottar", "receives") },
        ]);
    }
    out.push(section(
        3,
        &format!("{id}-processors"),
        l.t("Databehandlere (skytjenester)", "Processors (SaaS)"),
        vec![table_or(
            vec![
                l.t("Tjeneste", "Service"),
                l.t("Leverandør", "Vendor"),
                l.t("Databehandleravtale", "Data processing agreement"),
                l.t("Lagring", "Region"),
                l.t("Autentisering", "Authentication"),
                l.t("Rolle", "Role"),
            ],
            proc_rows,
            l.t("Ingen skytjeneste har eller mottar klassen.", "No SaaS system holds or receives the class."),
        )],
    ));

    // Assumptions.
    let assumption_rows: Vec<Vec<String>> = cv
        .assumptions
        .iter()
        .filter_map(|i| verdict.assumptions.get(*i))
        .map(|a| {
            let (what, why) = match a.kind {
                AssumptionKind::Carries { flow } => (
                    l.t(
                        &format!("flyten {} fører ikke klassen", model.flow_title(flow)),
                        &format!("the flow {} does not carry the class", model.flow_title(flow)),
                    ),
                    a.justification.clone(),
                ),
                AssumptionKind::NoForging { system, ref forgers, ref flows } => {
                    let s = model.system(system);
                    let names: Vec<String> = forgers.iter().map(|n| model.node_name(*n)).collect();
                    (
                        l.t(
                            &format!("ingen på segmentet til {} sender med adressen dens", s.name),
                            &format!("nobody on the segment of {} sends with its address", s.name),
                        ),
                        l.t(
                            &format!("kan forfalskes av {}; {} flyter", names.join(", "), flows.len()),
                            &format!("could be forged by {}; {} flows", names.join(", "), flows.len()),
                        ),
                    )
                }
                AssumptionKind::SaasReach { system, ref flows } => {
                    let s = model.system(system);
                    let titles: Vec<String> = flows.iter().map(|f| model.flow_title(*f)).collect();
                    let auth = auth_text(s.auth, l).unwrap_or_else(|| "—".into());
                    (
                        l.t(
                            &format!("bare innloggingen i {} holder dataene unna flyter som når den gjennom en sone", s.name),
                            &format!("only the login of {} keeps its data from flows that reach it through a zone", s.name),
                        ),
                        l.t(
                            &format!("autentisering {auth}; flyter: {}", titles.join("; ")),
                            &format!("authentication {auth}; flows: {}", titles.join("; ")),
                        ),
                    )
                }
                AssumptionKind::SaasSafeguards { system } => {
                    let s = model.system(system);
                    let dash = || "—".to_string();
                    let (vendor, dpa) = (s.vendor.clone().unwrap_or_else(dash), s.dpa.clone().unwrap_or_else(dash));
                    let region = region_text(s.region.as_ref(), l).unwrap_or_else(dash);
                    let auth = auth_text(s.auth, l).unwrap_or_else(dash);
                    (
                        l.t(
                            &format!("{} holder dataene bak sin avtale og innlogging", s.name),
                            &format!("{} keeps the data behind its agreement and login", s.name),
                        ),
                        l.t(
                            &format!(
                                "leverandør {vendor}, databehandleravtale {dpa}, lagring {region}, autentisering {auth}"
                            ),
                            &format!(
                                "vendor {vendor}, data processing agreement {dpa}, region {region}, authentication {auth}"
                            ),
                        ),
                    )
                }
            };
            vec![what, why, loc(model, a.span)]
        })
        .collect();
    out.push(section(
        3,
        &format!("{id}-assumptions"),
        l.t("Forutsetninger beviset bygger på", "Assumptions the proof relies on"),
        vec![table_or(
            vec![l.t("Forutsetning", "Assumption"), l.t("Begrunnelse", "Justification"), l.t("Kilde", "Source")],
            assumption_rows,
            l.t("Beviset bygger ikke på noen forutsetning.", "The proof relies on no assumption."),
        )],
    ));

    // Enforcement points in front of the class: devices with an interface toward a zone
    // where it is held or may be, and host firewalls of the systems there.
    let mut zones: BTreeSet<crate::model::ZoneId> = cv.holders.iter().map(|n| model.node_zone(*n)).collect();
    for n in model.nodes() {
        if verdict.taint.get(dense(model, n), cv.class)
            && crate::verify::zone_permits(model, cv.class, model.node_zone(n))
        {
            zones.insert(model.node_zone(n));
        }
    }
    let mut enf_rows = Vec::new();
    for d in &model.devices {
        let facing: Vec<String> = d
            .interfaces
            .iter()
            .filter(|i| i.zones.iter().any(|z| zones.contains(z)))
            .map(|i| {
                let zs: Vec<&str> = i.zones.iter().map(|z| model.zone(*z).name.as_str()).collect();
                format!("{} ({})", i.name, zs.join(", "))
            })
            .collect();
        if facing.is_empty() {
            continue;
        }
        enf_rows.push(vec![d.name.clone(), device_kind(d.kind, d.target, l), facing.join("; ")]);
    }
    for (i, s) in model.systems.iter().enumerate() {
        let n = Node::System(crate::model::SystemId::from_index(i));
        let present = holders.contains(&n) || verdict.taint.get(dense(model, n), cv.class);
        if !present || !zones.contains(&s.zone) {
            continue;
        }
        let kind = match s.platform {
            Some(Platform::Linux) => l.t("vertsbrannmur (nftables)", "host firewall (nftables)"),
            Some(Platform::Windows) => l.t("vertsbrannmur (Windows)", "host firewall (Windows)"),
            _ => continue,
        };
        enf_rows.push(vec![s.name.clone(), kind, l.t("trafikk til verten", "traffic to the host")]);
    }
    out.push(section(
        3,
        &format!("{id}-enforcement"),
        l.t("Håndhevingspunkter foran dataene", "Enforcement points in front of the data"),
        vec![table_or(
            vec![
                l.t("Enhet", "Device"),
                l.t("Type", "Kind"),
                l.t("Grensesnitt mot sonene", "Interfaces toward the zones"),
            ],
            enf_rows,
            l.t(
                "Ingen brannmur, svitsj eller vertsbrannmur står foran sonene der dataene er.",
                "No firewall, switch or host firewall stands in front of the zones where the data is.",
            ),
        )],
    ));

    // Violations.
    let leaks: Vec<String> = verdict
        .violations
        .iter()
        .filter(|v| v.class == cv.class)
        .map(|v| {
            let route: Vec<String> = std::iter::once(model.node_name(v.source()))
                .chain(v.path.iter().map(|h| format!("{} ({})", model.node_name(h.to), model.flow_title(h.flow))))
                .collect();
            l.t(
                &format!("{} når {}: {}. Tiltak: {}", class.name, model.node_name(v.node), route.join(" → "), v.fix),
                &format!("{} reaches {}: {}. Fix: {}", class.name, model.node_name(v.node), route.join(" → "), v.fix),
            )
        })
        .collect();
    if !leaks.is_empty() {
        out.push(section(3, &format!("{id}-leaks"), l.t("Lekkasjer", "Leaks"), vec![Block::List(leaks)]));
    }
    out
}

fn device_kind(kind: DeviceKind, target: Target, l: Lang) -> String {
    let k = match kind {
        DeviceKind::Firewall => l.t("brannmur", "firewall"),
        DeviceKind::Switch => l.t("svitsj", "switch"),
    };
    format!("{k} ({})", target.word())
}

fn exceptions(model: &Model, o: &Options) -> Section {
    let l = o.lang;
    let rows: Vec<Vec<String>> = crate::verify::expiry::allows(model)
        .into_iter()
        .map(|(what, a)| {
            let status = match a.until {
                Some(u) if u < o.today => l.t(&format!("UTLØPT etter {u}"), &format!("EXPIRED after {u}")),
                Some(u) => l.t(&format!("gyldig til og med {u}"), &format!("valid through {u}")),
                None => l.t("uten sluttdato", "no end date"),
            };
            let what = match what.strip_prefix("flow ") {
                Some(rest) => l.t(&format!("flyt {rest}"), &what),
                None => what,
            };
            vec![what, a.lint.clone(), a.because.clone(), or_dash(a.owner.as_deref()), status, loc(model, a.span)]
        })
        .collect();
    section(2, "exceptions", l.t("Unntak (allow) med begrunnelse", "Exceptions (allow) with justification"), vec![
        Block::Para(l.t(
            "Hvert unntak fra en kontroll skal være begrunnet, ha en eier og helst en sluttdato. Et unntak etter sluttdatoen er en feil.",
            "Every exception from a check must be justified, should have an owner and preferably an end date. An exception past its end date is an error.",
        )),
        table_or(
            vec![
                l.t("Gjelder", "Applies to"),
                l.t("Kontroll", "Check"),
                l.t("Begrunnelse", "Justification"),
                l.t("Eier", "Owner"),
                l.t("Status", "Status"),
                l.t("Kilde", "Source"),
            ],
            rows,
            l.t("Policyen har ingen unntak.", "The policy has no exceptions."),
        ),
    ])
}

fn findings(model: &Model, verdict: &Verdict, l: Lang) -> Section {
    let rows: Vec<Vec<String>> = verdict
        .lints
        .iter()
        .map(|d| {
            vec![
                match d.severity {
                    Severity::Error => l.t("feil", "error"),
                    Severity::Warning => l.t("advarsel", "warning"),
                },
                d.code.id.to_string(),
                d.message.clone(),
                loc(model, d.span),
            ]
        })
        .collect();
    let gaps: Vec<Vec<String>> = verdict
        .enforcement
        .gaps
        .iter()
        .map(|g| {
            let classes: Vec<&str> = g.classes.iter().map(|c| model.class(*c).name.as_str()).collect();
            vec![
                model.zone(g.inside).name.clone(),
                model.zone(g.outside).name.clone(),
                classes.join(", "),
                g.reason.clone(),
                g.fix.clone(),
            ]
        })
        .collect();
    let enforcement = if gaps.is_empty() {
        Block::Verdict(
            true,
            l.t(
                "Nettet håndhever policyen: hver udeklarert vei mellom steder der en avgrenset klasse er og steder den ikke får være, går gjennom et håndhevingspunkt.",
                "The network enforces the policy: every undeclared path between places a confined class is and places it may not be passes an enforcement point.",
            ),
        )
    } else {
        Block::Table {
            head: vec![
                l.t("Sone med dataene", "Zone with the data"),
                l.t("Sone utenfor", "Zone outside"),
                l.t("Klasser", "Classes"),
                l.t("Hvorfor ingenting håndhever", "Why nothing enforces it"),
                l.t("Tiltak", "Fix"),
            ],
            rows: gaps,
        }
    };
    section(
        2,
        "findings",
        l.t("Funn fra kontrollene", "Findings of the checks"),
        vec![
            enforcement,
            table_or(
                vec![
                    l.t("Alvorlighet", "Severity"),
                    l.t("Kode", "Code"),
                    l.t("Funn", "Finding"),
                    l.t("Kilde", "Source"),
                ],
                rows,
                l.t("Kontrollene fant ingenting.", "The checks found nothing."),
            ),
        ],
    )
}

fn enforcement_overview(model: &Model, l: Lang) -> Section {
    let mut rows = Vec::new();
    for d in &model.devices {
        let ifaces: Vec<String> = d
            .interfaces
            .iter()
            .map(|i| {
                let zs: Vec<&str> = i.zones.iter().map(|z| model.zone(*z).name.as_str()).collect();
                format!("{}: {}", i.name, zs.join(", "))
            })
            .collect();
        rows.push(vec![d.name.clone(), device_kind(d.kind, d.target, l), ifaces.join("; ")]);
    }
    let hosts: BTreeMap<&str, String> = model
        .systems
        .iter()
        .filter_map(|s| match s.platform {
            Some(Platform::Linux) => Some((s.name.as_str(), "nftables".to_string())),
            Some(Platform::Windows) => Some((s.name.as_str(), "Windows".to_string())),
            _ => None,
        })
        .collect();
    for (name, kind) in hosts {
        rows.push(vec![
            name.to_string(),
            l.t(&format!("vertsbrannmur ({kind})"), &format!("host firewall ({kind})")),
            "—".to_string(),
        ]);
    }
    section(
        2,
        "devices",
        l.t("Håndhevingspunkter", "Enforcement points"),
        vec![table_or(
            vec![l.t("Enhet", "Device"), l.t("Type", "Kind"), l.t("Grensesnitt og soner", "Interfaces and zones")],
            rows,
            l.t("Policyen har ingen håndhevingspunkter.", "The policy has no enforcement points."),
        )],
    )
}

fn bundle(model: &Model, b: &BundleInfo, l: Lang) -> Section {
    let digest = crate::compile::policy_digest(model).0;
    let mut blocks = Vec::new();
    let same = b.policy_sha256.as_deref() == Some(digest.as_str());
    blocks.push(Block::Verdict(
        same && b.missing.is_empty()
            && b.files.iter().all(|f| f.verdict == "equal" && f.manifest_sha256.as_deref() == Some(&f.sha256)),
        if b.files.iter().all(|f| f.verdict == "equal") {
            l.t(
                &format!("Alle {} enhetsfiler tillater nøyaktig det policyen tillater.", b.files.len()),
                &format!("All {} device files permit exactly what the policy permits.", b.files.len()),
            )
        } else {
            let bad = b.files.iter().filter(|f| f.verdict != "equal").count();
            l.t(
                &format!("{bad} av {} enhetsfiler avviker fra policyen.", b.files.len()),
                &format!("{bad} of {} device files differ from the policy.", b.files.len()),
            )
        },
    ));
    blocks.push(Block::Facts(vec![
        (l.t("Katalog", "Directory"), b.dir.clone()),
        (l.t("Policy i manifestet (sha256)", "Policy in the manifest (sha256)"), or_dash(b.policy_sha256.as_deref())),
        (
            l.t("Samme policy som denne rapporten", "Same policy as this report"),
            if same { l.t("ja", "yes") } else { l.t("NEI", "NO") },
        ),
    ]));
    let rows: Vec<Vec<String>> = b
        .files
        .iter()
        .map(|f| {
            let hash_ok = f.manifest_sha256.as_deref() == Some(f.sha256.as_str());
            vec![
                f.path.clone(),
                f.device.clone(),
                f.sha256.clone(),
                if hash_ok { l.t("stemmer", "matches") } else { l.t("AVVIKER", "DIFFERS") },
                match f.verdict {
                    "equal" => l.t("lik policyen", "equal to the policy"),
                    "inconclusive" => l.t("ikke avgjort", "inconclusive"),
                    _ => l.t(
                        &format!("AVVIKER ({} forskjeller, {} ukjente konstruksjoner)", f.differences, f.problems),
                        &format!("DIFFERS ({} differences, {} unsupported constructs)", f.differences, f.problems),
                    ),
                },
            ]
        })
        .collect();
    blocks.push(table_or(
        vec![
            l.t("Fil", "File"),
            l.t("Enhet", "Device"),
            "sha256".to_string(),
            l.t("Mot manifestet", "Against the manifest"),
            l.t("Kontroll", "Check"),
        ],
        rows,
        l.t("Pakken har ingen enhetsfiler.", "The bundle has no device files."),
    ));
    if !b.missing.is_empty() {
        blocks.push(Block::Para(l.t(
            &format!("Ikke i pakken, derfor ikke kontrollert: {}", b.missing.join(", ")),
            &format!("Not in the bundle, so not checked: {}", b.missing.join(", ")),
        )));
    }
    section(2, "bundle", l.t("Konfigurasjonspakke", "Configuration bundle"), blocks)
}

/// The report as self-contained HTML.
pub fn html(model: &Model, verdict: &Verdict, options: &Options) -> String {
    super::doc::html(&document(model, verdict, options))
}

/// The report as Markdown.
pub fn markdown(model: &Model, verdict: &Verdict, options: &Options) -> String {
    super::doc::markdown(&document(model, verdict, options))
}

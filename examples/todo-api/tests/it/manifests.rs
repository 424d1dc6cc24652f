//! The deployment artifacts agree with the app: the manifests are parsed and
//! each container's variables checked as its binary's start-up checks them
//! (`Service::check_settings`, for the process type it runs), then loaded
//! through the app's configuration type for what the manifests must agree on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dozen_backing::Kind;
use example_todo_api::{Config, service};
use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s")
}

fn load(name: &str) -> Yaml {
    let path = deploy().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name}: one object per file");
    docs.remove(0)
}

fn string_map(yaml: &Yaml) -> Vec<(String, String)> {
    yaml.as_hash()
        .expect("a map")
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                other => panic!("a ConfigMap value must be a string, got {other:?}"),
            };
            (k.as_str().expect("a string key").to_owned(), value)
        })
        .collect()
}

/// The app's configuration as `container` would load it: the ConfigMap, the
/// container's own variables, and `DATABASE_URL_FILE` replaced by the
/// Secret's content (as the mounted file would hold it). First its binary
/// (by the image) checks them for the process type it runs (by the
/// arguments), as its start-up would: a variable it would refuse with exit
/// 78 fails here.
fn pod_config(container: &Yaml, volumes: &Yaml) -> Config {
    let configmap = load("configmap.yaml");
    let secret = load("secret.yaml");
    let mut env = string_map(&configmap["data"]);
    for var in container["env"].as_vec().unwrap_or(&Vec::new()) {
        let name = var["name"].as_str().expect("env name").to_owned();
        let value = var["value"].as_str().expect("env value").to_owned();
        if name == "DATABASE_URL_FILE" {
            // The file must be a key of a Secret mounted where the variable points.
            let (dir, key) = value.rsplit_once('/').expect("a path");
            let mount = container["volumeMounts"]
                .as_vec()
                .expect("volumeMounts")
                .iter()
                .find(|m| m["mountPath"].as_str() == Some(dir))
                .unwrap_or_else(|| panic!("{value} is not under a mounted volume"));
            let volume = volumes
                .as_vec()
                .expect("volumes")
                .iter()
                .find(|v| v["name"] == mount["name"])
                .expect("the mounted volume exists");
            assert_eq!(
                volume["secret"]["secretName"], secret["metadata"]["name"],
                "mounted from the Secret"
            );
            let content = secret["stringData"][key]
                .as_str()
                .unwrap_or_else(|| panic!("the Secret has no key {key}"));
            env.push(("DATABASE_URL".into(), content.into()));
        } else {
            env.push((name, value));
        }
    }
    let image = container["image"].as_str().expect("an image");
    let process = container["args"][0].as_str();
    let checked = match image.split_once(':').map_or(image, |(name, _)| name) {
        "todo-api" => service::web().check_settings(process.unwrap_or("web"), env.clone()),
        "todo-worker" => service::worker().check_settings(process.unwrap_or("worker"), env.clone()),
        other => panic!("no binary of this example is the image {other}"),
    };
    let name = container["name"].as_str().unwrap_or("?");
    checked.unwrap_or_else(|e| {
        panic!("the manifests configure {name} ({image}) wrongly; it would exit 78:\n{e}")
    });
    Config::from_vars(env)
        .unwrap_or_else(|e| panic!("the manifests configure the app wrongly:\n{e}"))
}

fn seconds(yaml: &Yaml) -> Duration {
    Duration::from_secs(u64::try_from(yaml.as_i64().expect("seconds")).expect("positive"))
}

#[test]
fn the_web_deployment_agrees_with_the_app() {
    let web = load("web.yaml");
    let pod = &web["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let config = pod_config(container, &pod["volumes"]);

    let grace = seconds(&pod["terminationGracePeriodSeconds"]);
    let timeout = config.shutdown.shutdown_timeout;
    let delay = config
        .shutdown
        .shutdown_delay
        .expect("SHUTDOWN_DELAY is set for Kubernetes");
    assert!(
        grace > timeout,
        "terminationGracePeriodSeconds {grace:?} must exceed SHUTDOWN_TIMEOUT {timeout:?}"
    );
    assert!(
        container["lifecycle"]["preStop"].is_badvalue(),
        "the delay is SHUTDOWN_DELAY; a preStop sleep would add to it unseen"
    );
    assert_eq!(
        timeout,
        dozen_shutdown::DEFAULT_TIMEOUT,
        "the ConfigMap states the library's default"
    );

    // Readiness is noticed within the propagation delay.
    let ready = &container["readinessProbe"];
    assert_eq!(ready["httpGet"]["path"].as_str(), Some("/readyz"));
    let noticed = seconds(&ready["periodSeconds"])
        * u32::try_from(ready["failureThreshold"].as_i64().unwrap_or(3)).expect("small");
    assert!(
        noticed <= delay,
        "a failing readiness probe is noticed after {noticed:?}, beyond SHUTDOWN_DELAY {delay:?}"
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/livez")
    );
    // The start-up probe asks for the port only (bound before the database
    // is attached), and liveness, once it runs, is the same route.
    assert_eq!(
        container["startupProbe"]["httpGet"]["path"].as_str(),
        Some("/livez")
    );

    // The app binds the port the probes and the Service use.
    let port = &container["ports"][0];
    assert_eq!(port["containerPort"].as_i64(), Some(i64::from(config.port)));
    let service = load("service.yaml");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], port["name"]);
    assert_eq!(
        service["spec"]["selector"]["app"],
        web["spec"]["template"]["metadata"]["labels"]["app"]
    );

    // The API takes small bodies: 16 KiB, not the server's 2 MiB default.
    assert_eq!(config.http.http_max_body_bytes, 16 * 1024);

    // A server database: replicas wait for the migrate Job instead of migrating.
    assert_eq!(config.database_url.kind(), Kind::Postgres);
    assert!(!config.migrates_on_start());
    let init = &pod["initContainers"][0];
    assert_eq!(
        init["args"],
        Yaml::Array(vec![
            Yaml::String("migrate".into()),
            Yaml::String("wait".into())
        ])
    );
    pod_config(init, &pod["volumes"]);
}

#[test]
fn the_worker_and_the_migrate_job_agree_with_the_app() {
    let worker = load("worker.yaml");
    let pod = &worker["spec"]["template"]["spec"];
    let config = pod_config(&pod["containers"][0], &pod["volumes"]);
    let grace = seconds(&pod["terminationGracePeriodSeconds"]);
    assert!(
        grace > config.shutdown.shutdown_timeout,
        "the worker finishes or gives back its job before SIGKILL"
    );

    let job = load("migrate-job.yaml");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        Yaml::Array(vec![Yaml::String("migrate".into())])
    );
    let config = pod_config(container, &pod["volumes"]);
    assert_eq!(config.database_url.kind(), Kind::Postgres);
}

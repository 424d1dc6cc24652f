//! The HTTP API. Factor VI: handlers keep nothing between requests; every
//! piece of state is in the database.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::db::{Db, now_ms};

/// The longest title accepted, in characters.
pub const MAX_TITLE: usize = 500;

/// A todo as the API shows it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Todo {
    /// Assigned by the database.
    pub id: i64,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTodo {
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    title: Option<String>,
    done: Option<bool>,
}

/// The API's routes (health routes are added by the caller).
pub fn router(db: Db) -> Router {
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/todos/{id}", get(fetch).patch(update).delete(remove))
        .with_state(db)
}

/// An error response: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        (self.0, Json(Body { error: self.1 })).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        // The detail goes to the log, correlated with the request; the client
        // learns only that it was not its fault.
        tracing::error!(error = &error as &dyn std::error::Error, "database error");
        Self(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no todo with id {id}"))
}

/// `Json<T>` whose rejections are JSON errors too.
struct Body<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_error(&rejection)),
        }
    }
}

fn rejection_error(rejection: &JsonRejection) -> ApiError {
    ApiError(rejection.status(), rejection.body_text())
}

/// The `{id}` of a path, whose rejection is a JSON error too.
struct Id(i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(rejection) => Err(ApiError(rejection.status(), rejection.body_text())),
        }
    }
}

fn check_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "title: must not be empty".into(),
        ));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("title: at most {MAX_TITLE} characters"),
        ));
    }
    Ok(title.to_owned())
}

fn todo(row: &AnyRow) -> Result<Todo, sqlx::Error> {
    Ok(Todo {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        done: row.try_get::<i64, _>("done")? != 0,
    })
}

async fn create(
    State(db): State<Db>,
    Body(new): Body<NewTodo>,
) -> Result<impl IntoResponse, ApiError> {
    let title = check_title(&new.title)?;
    let now = now_ms();
    // The todo and its reminder job commit together: a job is never lost, and
    // never refers to a todo that was not created.
    let mut tx = db.pool.begin().await?;
    let id: i64 = sqlx::query(db.sql.insert_todo.q())
        .bind(title.clone())
        .bind(0_i64)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    sqlx::query(db.sql.insert_job.q())
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(todo_id = id, "todo created");
    Ok((
        StatusCode::CREATED,
        Json(Todo {
            id,
            title,
            done: false,
        }),
    ))
}

async fn list(State(db): State<Db>) -> Result<Json<Vec<Todo>>, ApiError> {
    let rows = sqlx::query(db.sql.list_todos.q())
        .fetch_all(&db.pool)
        .await?;
    Ok(Json(rows.iter().map(todo).collect::<Result<_, _>>()?))
}

async fn fetch(State(db): State<Db>, Id(id): Id) -> Result<Json<Todo>, ApiError> {
    match sqlx::query(db.sql.get_todo.q())
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
    {
        Some(row) => Ok(Json(todo(&row)?)),
        None => Err(not_found(id)),
    }
}

async fn update(
    State(db): State<Db>,
    Id(id): Id,
    Body(patch): Body<Patch>,
) -> Result<Json<Todo>, ApiError> {
    let title = patch.title.as_deref().map(check_title).transpose()?;
    let mut tx = db.pool.begin().await?;
    let Some(row) = sqlx::query(db.sql.get_todo.q())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Err(not_found(id));
    };
    let mut current = todo(&row)?;
    if let Some(title) = title {
        current.title = title;
    }
    if let Some(done) = patch.done {
        current.done = done;
    }
    sqlx::query(db.sql.update_todo.q())
        .bind(current.title.clone())
        .bind(i64::from(current.done))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(current))
}

async fn remove(State(db): State<Db>, Id(id): Id) -> Result<StatusCode, ApiError> {
    let result = sqlx::query(db.sql.delete_todo.q())
        .bind(id)
        .execute(&db.pool)
        .await?;
    if result.rows_affected() == 0 {
        return Err(not_found(id));
    }
    Ok(StatusCode::NO_CONTENT)
}

//! The HTTP API. Factor VI: handlers keep nothing between requests; every
//! piece of state is in the database.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::db::{Db, Dialect, now_ms};
use crate::jobs::Reminder;
use dozen::jobs::Options;

/// The longest title accepted, in characters.
pub const MAX_TITLE: usize = 500;

/// `GET /todos` without `?limit=`: the page size.
pub const DEFAULT_PAGE: u32 = 50;
/// The largest `?limit=` accepted by `GET /todos`.
pub const MAX_PAGE: u32 = 200;

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
///
/// | route | does |
/// |---|---|
/// | `GET /todos?limit=&after=` | a page of todos in id order: at most `limit` ([`DEFAULT_PAGE`], at most [`MAX_PAGE`]) with ids above `after`; a full page carries `Link: <...>; rel="next"` |
/// | `POST /todos` | creates a todo (`{"title": ...}`), 201 |
/// | `GET /todos/{id}` | one todo |
/// | `PATCH /todos/{id}` | changes `title` and/or `done` in one atomic statement |
/// | `DELETE /todos/{id}` | deletes it, 204 |
///
/// Bodies larger than `HTTP_MAX_BODY_BYTES` are refused with 413 by the
/// server dozen runs (dozen-shutdown's `serve`): before a handler runs when
/// the body declares its length, and as the JSON error of the body's
/// rejection when a chunked body grows past it. The manifests set 16 KiB: a
/// title of [`MAX_TITLE`] characters of four bytes each, with room to spare.
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

impl From<dozen::jobs::Error> for ApiError {
    fn from(error: dozen::jobs::Error) -> Self {
        tracing::error!(error = &error as &dyn std::error::Error, "job queue error");
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

/// `?limit=` and `?after=` of `GET /todos`, whose rejection is a JSON error.
struct Page {
    limit: u32,
    after: i64,
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let bad = |message: String| ApiError(StatusCode::BAD_REQUEST, message);
        let mut page = Self {
            limit: DEFAULT_PAGE,
            after: 0,
        };
        // Other parameters are ignored; values are never echoed back.
        for pair in parts.uri.query().unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("limit", v)) => {
                    page.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            bad(format!("limit: expected an integer from 1 to {MAX_PAGE}"))
                        })?;
                }
                Some(("after", v)) => {
                    page.after = v
                        .parse()
                        .map_err(|_| bad("after: expected a todo id".to_owned()))?;
                }
                _ => {}
            }
        }
        Ok(page)
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
    // No unique key: a todo's reminder is enqueued once, here.
    let _reminder = db
        .jobs
        .enqueue_in(&mut tx, &Reminder { todo_id: id }, Options::new())
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

async fn list(State(db): State<Db>, page: Page) -> Result<Response, ApiError> {
    let rows = sqlx::query(db.sql.list_todos.q())
        .bind(page.after)
        .bind(i64::from(page.limit))
        .fetch_all(&db.pool)
        .await?;
    let todos = rows.iter().map(todo).collect::<Result<Vec<_>, _>>()?;
    let next = todos
        .last()
        .filter(|_| todos.len() == page.limit as usize)
        .and_then(|last| {
            let link = format!(
                "</todos?after={}&limit={}>; rel=\"next\"",
                last.id, page.limit
            );
            HeaderValue::from_str(&link).ok()
        });
    let mut response = Json(todos).into_response();
    if let Some(next) = next {
        response.headers_mut().insert(header::LINK, next);
    }
    Ok(response)
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

/// One atomic change: the database applies the fields given to the row as it
/// stands when the statement runs, so concurrent PATCHes of different fields
/// all take effect, and the answer is the row right after this change.
async fn update(
    State(db): State<Db>,
    Id(id): Id,
    Body(patch): Body<Patch>,
) -> Result<Json<Todo>, ApiError> {
    let title = patch.title.as_deref().map(check_title).transpose()?;
    let done = patch.done.map(i64::from);
    let row = if db.dialect == Dialect::MySql {
        // MariaDB has no UPDATE ... RETURNING: the row lock the UPDATE takes
        // is held until commit, so the read in the same transaction sees
        // exactly this change.
        let mut tx = db.pool.begin().await?;
        sqlx::query(db.sql.update_todo.q())
            .bind(title)
            .bind(done)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(db.sql.get_todo.q())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row
    } else {
        sqlx::query(db.sql.update_todo.q())
            .bind(title)
            .bind(done)
            .bind(id)
            .fetch_optional(&db.pool)
            .await?
    };
    match row {
        Some(row) => Ok(Json(todo(&row)?)),
        None => Err(not_found(id)),
    }
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

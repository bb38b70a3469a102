//! Route errors: a registry code, an HTTP status and a message (spec §14.6).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cim_backend::StoreError;
use cim_core::ErrorCode;

/// A failed route call.
#[derive(Debug)]
pub struct ApiError {
    /// Registry code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

impl ApiError {
    /// A failure with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// INVALID_FIELD.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_FIELD, message)
    }

    /// The HTTP status of the code (spec §14.6).
    pub fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::INVALID_FIELD | ErrorCode::INVALID_CLIENT_MSG_ID => StatusCode::BAD_REQUEST,
            ErrorCode::UNAUTHENTICATED | ErrorCode::TOKEN_EXPIRED | ErrorCode::INVALID_CREDENTIALS => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::FORBIDDEN => StatusCode::FORBIDDEN,
            ErrorCode::NOT_FOUND | ErrorCode::UNKNOWN_RECIPIENT => StatusCode::NOT_FOUND,
            ErrorCode::ALREADY_EXISTS => StatusCode::CONFLICT,
            ErrorCode::BODY_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UNAVAILABLE | ErrorCode::SHUTTING_DOWN => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let code = match &error {
            StoreError::AlreadyExists(_) => ErrorCode::ALREADY_EXISTS,
            StoreError::NotFound(_) => ErrorCode::NOT_FOUND,
            StoreError::Forbidden(_) => ErrorCode::FORBIDDEN,
            _ => ErrorCode::UNAVAILABLE,
        };
        Self::new(code, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.code.0,
            "name": self.code.name().unwrap_or("UNKNOWN"),
            "message": self.message,
        });
        (self.status(), Json(body)).into_response()
    }
}

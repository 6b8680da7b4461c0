//! Northbound REST API compatible with OpenStack Valence: routes, request/response DTOs, error mapping and OpenAPI.

package org.attn4j.serve;

import java.util.Map;

/**
 * A request the service refuses, answered with {@code status} and an OpenAI-style body
 * {@code {"error": {"message", "type", "param", "code"}}}; {@code param} names the offending field (or null).
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type, param, code;
    private final Map<String, String> headers;

    public ApiError(int status, String type, String param, String code, String message, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = headers;
    }

    /** 400 invalid_request_error naming {@code param}. */
    public static ApiError badRequest(String param, String code, String message) {
        return new ApiError(400, "invalid_request_error", param, code, message, Map.of());
    }

    public int status() { return status; }
    public String type() { return type; }
    public String param() { return param; }
    public String code() { return code; }
    public Map<String, String> headers() { return headers; }
}

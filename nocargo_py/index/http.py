"""The HTTP client for sparse registries: one pooled ``requests`` session.

* Retries: urllib3's :class:`~urllib3.util.retry.Retry` mounted through requests'
  :class:`~requests.adapters.HTTPAdapter` retries connection errors, read timeouts and
  5xx/429 answers with exponential backoff (``Retry-After`` honoured). A body that breaks
  off mid-transfer (fewer bytes than ``Content-Length``, a cut chunked stream) happens
  after urllib3 has handed the response over, so :meth:`HttpClient.get` retries that itself,
  with the same backoff.
* Timeouts: ``(connect, read)`` per request (``http.timeout`` from cargo config).
* Every request carries ``cargo-protocol: version=1`` and ``Accept: text/plain``, as
  cargo sends them; callers add ``If-None-Match``/``If-Modified-Since``/``Authorization``.
* The final failure is an :class:`~nocargo_py.index.types.IndexFetchError` that names the
  URL and what went wrong (never the headers, which may carry a token).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from .. import __version__
from .types import IndexFetchError

if TYPE_CHECKING:  # pragma: no cover
    import requests

__all__ = ["HttpClient", "HttpResponse", "RETRY_STATUSES"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpResponse:
    """A completed response (the body fully read)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""


class HttpClient:
    """A thread-safe pooled HTTP client with retries and timeouts.

    ``retries`` is cargo's ``net.retry`` (extra attempts after the first, default 3);
    ``timeout`` the read timeout in seconds (``http.timeout``, default 30);
    ``backoff`` the base of the exponential backoff in seconds; ``pool`` the number of
    pooled connections per host (match the fetch thread count).
    """

    def __init__(self, *, retries: int = 3, timeout: float = 30.0, connect_timeout: float = 10.0,
                 backoff: float = 0.5, pool: int = 16) -> None:
        self.retries = max(0, retries)
        self.timeout = (connect_timeout, timeout)
        self.backoff = backoff
        self.pool = pool
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        """The pooled session, made on first use: requests (with urllib3, ssl, idna...)
        costs ~0.1 s of CPU to import, which a run that sends nothing (an up-to-date lock
        with a warm cache) should not pay."""
        with self._session_lock:
            if self._session is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> requests.Session:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        session = requests.Session()
        session.trust_env = True
        retry = Retry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            backoff_max=10.0,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=8, pool_maxsize=self.pool)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update({
            "User-Agent": f"nocargo-py/{__version__}",
            "cargo-protocol": "version=1",
            "Accept": "text/plain",
            "Accept-Encoding": "gzip, deflate",
        })
        return session

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``url`` (retrying as described in the module docstring)."""
        import requests

        attempts = self.retries + 1
        last_error = ""
        for attempt in range(attempts):
            try:
                resp = self.session.get(url, headers=dict(headers or {}),
                                        timeout=self.timeout, stream=True,
                                        allow_redirects=True)
            except requests.exceptions.RetryError as exc:
                raise IndexFetchError(f"failed to fetch `{url}`: {_reason(exc)}",
                                      notes=[f"gave up after {attempts} attempts"]) from None
            except requests.exceptions.RequestException as exc:
                # urllib3 already retried connection errors and read timeouts.
                raise IndexFetchError(f"failed to fetch `{url}`: {_reason(exc)}",
                                      notes=[f"gave up after {attempts} attempts"]) from None
            try:
                body = resp.content  # reads the whole body; raises if it breaks off
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ConnectionError,
                    requests.exceptions.ContentDecodingError) as exc:
                last_error = f"the response body was cut short ({_reason(exc)})"
                resp.close()
                if attempt + 1 < attempts:
                    time.sleep(min(10.0, self.backoff * (2 ** attempt)))
                    continue
                raise IndexFetchError(f"failed to fetch `{url}`: {last_error}",
                                      notes=[f"gave up after {attempts} attempts"]) from None
            except requests.exceptions.Timeout as exc:
                last_error = f"timed out while reading the response ({_reason(exc)})"
                resp.close()
                if attempt + 1 < attempts:
                    time.sleep(min(10.0, self.backoff * (2 ** attempt)))
                    continue
                raise IndexFetchError(f"failed to fetch `{url}`: {last_error}",
                                      notes=[f"gave up after {attempts} attempts"]) from None
            return HttpResponse(status=resp.status_code, body=body,
                                headers={k.lower(): v for k, v in resp.headers.items()},
                                url=resp.url)
        raise IndexFetchError(f"failed to fetch `{url}`: {last_error}")  # pragma: no cover

    def close(self) -> None:
        """Close pooled connections (if any were opened)."""
        if self._session is not None:
            self._session.close()


def _reason(exc: BaseException) -> str:
    """A short, header-free description of a requests/urllib3 failure."""
    import requests

    inner = exc
    for _ in range(4):
        nxt = getattr(inner, "reason", None) or (inner.args[0] if inner.args else None)
        if isinstance(nxt, BaseException):
            inner = nxt
        else:
            break
    if isinstance(exc, requests.exceptions.RetryError):
        return "too many failed attempts (server errors)"
    if isinstance(exc, requests.exceptions.ConnectTimeout) or "ConnectTimeout" in type(inner).__name__:
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout) or "ReadTimeout" in type(inner).__name__:
        return "timed out waiting for the server"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(inner)
        if "Name or service not known" in text or "NameResolution" in type(inner).__name__:
            return "could not resolve host"
        if "refused" in text.lower():
            return "connection refused"
        return f"connection failed ({type(inner).__name__})"
    return type(exc).__name__

"""The studio's wire surfaces: the Ads API routes (``/11/`` and ``/12/`` alike, Ads API
§4-§10) and the service's own ``/studio/v1/`` (accounts and members). Parameters come
from the query string (as the ``twitter-ads`` SDK sends them), a form body or a JSON
body (``params.read_params``); answers and errors use the Ads envelope
(``envelope``)."""

"""What Sprig tells its operators: Prometheus metrics (``metrics``) served at ``/metrics``
(``routes``)."""

# Loaded by moto_server's Python at start-up (local/moto puts this folder on
# PYTHONPATH). It removes two stand-in artefacts that real SQS does not have.
#
# moto reads Queue.attributes to learn one attribute in two places; that
# property builds every attribute, ApproximateNumberOfMessages and friends
# included, by walking every message of the queue:
# - SQSBackend.send_message, for ContentBasedDeduplication: a send costs
#   O(queue depth), and filling a queue with 1,000 messages (a bulk stop)
#   takes minutes instead of seconds;
# - SQSBackend.is_message_valid_based_on_retention_period, for
#   MessageRetentionPeriod, three times for every message a receive
#   returns: a receive of 10 from a queue of 1,000 walks it 30 times.
# Both attributes are also kept on the queue as plain fields
# (content_based_deduplication, a bool; message_retention_period, an int;
# set with every attribute change), which is what the patched code reads.
#
# And two that are moto's alone:
# - every request, under one lock that all requests share, finds its
#   backend by listing moto's package folder (a stat of each of its ~200
#   modules) and matching the host against every service's URL patterns.
#   The answer depends on the host alone, so it is kept per host;
# - EventBridge's PutEvents builds a new JSONPath parser (its LALR tables
#   with them) for every input path of every target an event goes to:
#   about a second of CPU per event, which a stop's Stop Requested event
#   took from the functions whose latency the demo measures. A parsed path
#   depends on the path alone, so it is kept per path.
#
# If moto's code changes so a patched line is not there, that part is not
# patched and moto behaves as shipped (only slower).
import sys


def _patch():
    try:
        import inspect
        import textwrap

        import moto.sqs.models as models
    except Exception as err:  # moto not importable: moto_server reports it
        sys.stderr.write("stopcoord moto patch: not applied: %s\n" % err)
        return
    fn = models.SQSBackend.send_message
    old = 'queue.attributes.get("ContentBasedDeduplication") == "true"'
    src = textwrap.dedent(inspect.getsource(fn))
    if src.count(old) != 1:
        sys.stderr.write("stopcoord moto patch: not applied: send_message has changed\n")
        return
    src = src.replace(old, 'getattr(queue, "content_based_deduplication", False) is True')
    scope = {}
    exec(compile(src, inspect.getsourcefile(fn), "exec"), models.__dict__, scope)
    models.SQSBackend.send_message = scope["send_message"]
    retention = models.SQSBackend.is_message_valid_based_on_retention_period
    if 'get_queue_attributes(' not in inspect.getsource(retention):
        sys.stderr.write("stopcoord moto patch: not applied: is_message_valid_based_on_retention_period has changed\n")
        return

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        period = getattr(self.get_queue(queue_name), "message_retention_period", None)
        if not isinstance(period, int):
            return retention(self, queue_name, message)
        return period + message.sent_timestamp / 1000 > models.unix_time()

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    sys.stderr.write("stopcoord moto patch: applied (SQS SendMessage and ReceiveMessage no longer walk the queue per message)\n")
    _patch_dispatch()


def _patch_dispatch():
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    except Exception as err:
        sys.stderr.write("stopcoord moto patch: dispatch not patched: %s\n" % err)
        return
    find = getattr(DomainDispatcherApplication, "get_backend_for_host", None)
    if find is None:
        sys.stderr.write("stopcoord moto patch: dispatch not patched: get_backend_for_host has changed\n")
        return

    def get_backend_for_host(self, host):
        cache = self.__dict__.setdefault("_stopcoord_backends", {})
        if host not in cache:
            cache[host] = find(self, host)
        return cache[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host
    sys.stderr.write("stopcoord moto patch: applied (each request's backend is found once per host)\n")
    _patch_jsonpath()


def _patch_jsonpath():
    try:
        import functools

        import jsonpath_ng.ext as ext
    except Exception as err:
        sys.stderr.write("stopcoord moto patch: JSONPath not patched: %s\n" % err)
        return
    parse = getattr(ext, "parse", None)
    if parse is None:
        sys.stderr.write("stopcoord moto patch: JSONPath not patched: jsonpath_ng.ext.parse has changed\n")
        return
    # moto imports parse from jsonpath_ng.ext when it fills a target's input,
    # so replacing the module's attribute is enough.
    ext.parse = functools.lru_cache(maxsize=1024)(parse)
    sys.stderr.write("stopcoord moto patch: applied (EventBridge parses each JSONPath once)\n")


_patch()

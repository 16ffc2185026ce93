# Loaded by moto_server's Python at start-up (local/moto puts this folder on
# PYTHONPATH). It removes one stand-in artefact that real SQS does not have.
#
# moto's SQSBackend.send_message reads Queue.attributes to learn one flag,
# ContentBasedDeduplication; that property builds every attribute,
# ApproximateNumberOfMessages and friends included, by walking every
# message of the queue. A send then costs O(queue depth): filling a queue
# with 1,000 messages (a bulk stop) takes minutes instead of seconds. The
# flag is also kept on the queue as content_based_deduplication (a bool,
# set with every attribute change), which is what the send now reads.
#
# If moto's code changes so the line is not there, nothing is patched and
# moto behaves as shipped (only slower).
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
    sys.stderr.write("stopcoord moto patch: applied (SQS SendMessage no longer walks the queue)\n")


_patch()

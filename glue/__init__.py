"""The Glue validation job: contracts, samples, the pure-Python core (``glue/src``),
the Glue entry (``glue/jobs``) and the local CLI (``python3 -m glue.validate``)."""

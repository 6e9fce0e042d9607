"""``ircli watch``: signals read through a profile, rules over them, and the response when one
fires (docs/watch.md). ``model`` declares watch files, ``loader`` reads them, ``rules`` keeps
signals and rules over time (pure), ``signals`` reads one, ``guardrails`` tightens a playbook
for a pre-approved run, ``respond`` is one firing's response, ``service`` the loop."""

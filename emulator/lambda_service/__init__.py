"""Our Lambda service: functions, invocation and event source mappings.

Split like a moto service: ``models``/``mappings`` hold state and behaviour,
``responses`` only translates HTTP to calls and results to AWS's JSON,
``exceptions`` has one class per AWS error code.
"""

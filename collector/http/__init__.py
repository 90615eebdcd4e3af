"""Everything HTTP that is not a feature: the error shape and status mapping (:mod:`.errors`),
parameters (:mod:`.params`), bodies (:mod:`.body`), keys (:mod:`.auth`), the typed services of
a request (:mod:`.state`), the route table (:mod:`.routing`, :mod:`.endpoints`) and the spec and
``/docs`` generated from it (:mod:`.spec`, :mod:`.openapi`, :mod:`.docs_page`)."""

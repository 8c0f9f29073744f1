from . import logistics_exception_resolve

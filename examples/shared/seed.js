// The seed corpus of the tests (tests/fixtures/seed000.jsonl and seed000_questions.json): 20 short
// documents on Python concurrency and three questions. The example test checks this copy is equal.
export const documents = [
  { id: 'asyncio', text: "Python's asyncio library provides event loop-based concurrency for I/O-bound tasks." },
  { id: 'gil', text: 'The Global Interpreter Lock (GIL) in CPython prevents true parallelism for CPU-bound code.' },
  { id: 'threading', text: 'Threading in Python is suitable for I/O-bound tasks but not CPU-bound tasks due to the GIL.' },
  { id: 'multiprocessing', text: 'Multiprocessing bypasses the GIL by running each process in a separate Python interpreter.' },
  { id: 'async-await', text: 'async/await syntax in Python 3.5+ enables cooperative multitasking without threads.' },
  { id: 'celery', text: 'Celery is a distributed task queue for Python that supports asynchronous job execution.' },
  { id: 'ray', text: 'Ray is a framework for distributed computing in Python, optimised for ML workloads.' },
  { id: 'concurrent-futures', text: 'concurrent.futures provides a high-level interface for both thread and process pools.' },
  { id: 'asyncio-gather', text: 'The asyncio.gather() function runs multiple coroutines concurrently in the same event loop.' },
  { id: 'gevent', text: 'Gevent uses greenlets to provide lightweight concurrency in Python without native threads.' },
  { id: 'wsgi', text: 'WSGI is a synchronous interface for Python web servers and does not support async handlers.' },
  { id: 'asgi', text: 'ASGI extends WSGI to support asynchronous Python web frameworks like FastAPI and Starlette.' },
  { id: 'uvloop', text: 'uvloop is a fast asyncio event loop implementation built on top of libuv.' },
  { id: 'trio', text: 'trio is an alternative async library for Python with a structured concurrency model.' },
  { id: 'queue-queue', text: "Python's queue.Queue is thread-safe and suitable for producer-consumer patterns with threads." },
  { id: 'asyncio-queue', text: 'asyncio.Queue provides a thread-unsafe but coroutine-safe queue for async workflows.' },
  { id: 'process-pools', text: 'Process pools in Python use pickle to serialise arguments, which can be a bottleneck.' },
  { id: 'dask', text: 'Dask provides parallel computing for Python with lazy evaluation and task graph scheduling.' },
  { id: 'numba', text: 'Numba compiles Python functions to native machine code using LLVM, bypassing the GIL.' },
  { id: 'multiprocessing-manager', text: 'The multiprocessing.Manager class enables shared state between processes via a proxy server.' },
];

export const questions = [
  'What is the best way to run CPU-bound Python code in parallel?',
  'How does asyncio handle concurrency without threads?',
  'What is the difference between asyncio.Queue and queue.Queue?',
];

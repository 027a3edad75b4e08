"""The self-contained HTML pages: the report and the comparison.

``shared`` holds what every page shares (the template engine, script and
Content-Security-Policy); ``report_page`` and ``compare_page`` draw one page
each from the figures of ``..figures``.
"""

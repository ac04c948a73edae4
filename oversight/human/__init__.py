"""Human judging: accounts and login throttling, campaigns, and what a judge sees and submits.

The web app (`oversight.web`) renders what these modules return and holds no rules of its own.
"""

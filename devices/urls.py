from devices.views import confiscations, exemptions, handin, reception, register

app_name = "devices"

urlpatterns = [
    *register.urlpatterns,
    *handin.urlpatterns,
    *confiscations.urlpatterns,
    *exemptions.urlpatterns,
    *reception.urlpatterns,
]
